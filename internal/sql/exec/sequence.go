package exec

import (
	"context"
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Sequences: CREATE/ALTER/DROP SEQUENCE, the sequences SERIAL and identity
// columns own, SHOW SEQUENCES. The values are handed out by the session
// (nextval runs outside the statement's transaction); see
// catalog/sequence.go for the layout.

// sequenceOptions converts parsed options; restart is the RESTART option
// and owned the OWNED BY option (nil when absent).
func sequenceOptions(opts []ast.SequenceOption) (o catalog.SequenceOptions, restart, owned *ast.SequenceOption) {
	for i := range opts {
		a := &opts[i]
		v := a.Value
		switch a.Kind {
		case "AS":
			w := a.Width
			o.Width = &w
		case "INCREMENT":
			o.Increment = &v
		case "MINVALUE":
			o.Min = &v
		case "NO MINVALUE":
			o.NoMin = true
		case "MAXVALUE":
			o.Max = &v
		case "NO MAXVALUE":
			o.NoMax = true
		case "START":
			o.Start = &v
		case "CACHE":
			o.Cache = &v
		case "CYCLE", "NO CYCLE":
			c := a.Kind == "CYCLE"
			o.Cycle = &c
		case "RESTART":
			restart = a
		case "OWNED BY":
			owned = a
		}
	}
	return o, restart, owned
}

// lookupSequence resolves name to a sequence (nil when absent);
// CADB0436 for a table or view.
func lookupSequence(ctx context.Context, kv catalog.KV, dbID uint32, name string) (*catalog.TableDesc, error) {
	t, err := catalog.LookupTable(ctx, kv, dbID, name)
	if err != nil || t == nil {
		return nil, err
	}
	if t.Sequence == nil {
		return nil, errcode.New(errcode.WrongObjectType, "%q is not a sequence", name)
	}
	return t, nil
}

// setOwner applies OWNED BY t.c (or NONE) to d: the column must exist in
// a table of the same database.
func setOwner(ctx context.Context, kv catalog.KV, dbID uint32, d *catalog.SequenceDesc, owned *ast.SequenceOption) error {
	if owned.Table == "" {
		d.OwnerTable, d.OwnerColumn = 0, 0
		return nil
	}
	t, err := catalog.LookupTable(ctx, kv, dbID, owned.Table)
	if err != nil {
		return err
	}
	if t == nil {
		return errcode.New(errcode.UnknownTable, "relation %q does not exist", owned.Table)
	}
	if t.View != "" || t.Sequence != nil {
		return errcode.New(errcode.WrongObjectType, "sequence must be owned by a table: %q is not a table", owned.Table)
	}
	ord := t.ColumnOrdinal(owned.Column)
	if ord < 0 || t.Columns[ord].Hidden {
		return errcode.New(errcode.UnknownColumn, "column %q of relation %q does not exist", owned.Column, owned.Table)
	}
	d.OwnerTable, d.OwnerColumn = t.ID, t.Columns[ord].ID
	return nil
}

func createSequence(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.CreateSequence) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	if err := catalog.ValidateName(s.Name); err != nil {
		return err
	}
	existing, err := catalog.LookupTable(ctx, buf, db.ID, s.Name)
	if err != nil {
		return err
	}
	if existing != nil {
		if s.IfNotExists {
			return nil
		}
		return errcode.New(errcode.TableExists, "relation %q already exists", s.Name)
	}
	opts, _, owned := sequenceOptions(s.Options)
	d, err := catalog.ApplySequenceOptions(nil, opts)
	if err != nil {
		return err
	}
	if owned != nil {
		if err := setOwner(ctx, buf, db.ID, d, owned); err != nil {
			return err
		}
	}
	return catalog.CreateSequence(ctx, buf, catalog.NewSequenceTable(db.ID, s.Name, d))
}

// alterSequence changes a sequence's options in the statement's
// transaction. RESTART (and a change of the options nextval uses) rewrites
// its state there too: a restart is transactional here, unlike nextval.
// Blocks of values other nodes cached before keep being handed out until
// used up (as other sessions' caches in PostgreSQL).
func alterSequence(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.AlterSequence) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	t, err := lookupSequence(ctx, buf, db.ID, s.Name)
	if err != nil {
		return err
	}
	if t == nil {
		if s.IfExists {
			return nil
		}
		return errcode.New(errcode.UnknownTable, "relation %q does not exist", s.Name)
	}
	opts, restart, owned := sequenceOptions(s.Options)
	d, err := catalog.ApplySequenceOptions(t.Sequence, opts)
	if err != nil {
		return err
	}
	if owned != nil {
		if err := setOwner(ctx, buf, db.ID, d, owned); err != nil {
			return err
		}
	}
	st, found, err := catalog.GetSequenceState(ctx, buf, t.DBID, t.ID)
	if err != nil {
		return err
	}
	if !found {
		return errcode.New(errcode.Corruption, "sequence %q has no state", t.Name)
	}
	next := catalog.StateFor(d, st.Last)
	next.Called = st.Called
	if restart != nil {
		next.Last, next.Called = d.Start, false
		if restart.HasValue {
			next.Last = restart.Value
		}
	}
	if next.Last < d.Min || next.Last > d.Max {
		if restart != nil {
			return errcode.New(errcode.InvalidSequence, "RESTART value (%d) must be between MINVALUE (%d) and MAXVALUE (%d)", next.Last, d.Min, d.Max)
		}
		if !next.Called || (d.Increment > 0 && next.Last < d.Min) || (d.Increment < 0 && next.Last > d.Max) {
			return errcode.New(errcode.InvalidSequence, "the current value (%d) of sequence %q is outside the new bounds %d..%d: add RESTART", next.Last, t.Name, d.Min, d.Max)
		}
	}
	t.Sequence = d
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	return catalog.PutSequenceState(buf, t.DBID, t.ID, next)
}

// dropSequence drops sequences (all or, on an error, none). A sequence a
// column's default uses cannot be dropped without CASCADE; with CASCADE
// the default is removed (as PostgreSQL does).
func dropSequence(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.DropSequence) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	for _, name := range s.Names {
		t, err := lookupSequence(ctx, buf, db.ID, name)
		if err != nil {
			return err
		}
		if t == nil {
			if s.IfExists {
				continue
			}
			return errcode.New(errcode.UnknownTable, "sequence %q does not exist", name)
		}
		if err := dropSequenceUsers(ctx, buf, t, s.Behavior == "CASCADE"); err != nil {
			return err
		}
		if err := catalog.DropSequence(ctx, buf, t); err != nil {
			return err
		}
	}
	return nil
}

// dropSequenceUsers finds the columns whose default is nextval of seq:
// an error without cascade, their defaults (and identity) removed with it.
func dropSequenceUsers(ctx context.Context, buf *WriteBuffer, seq *catalog.TableDesc, cascade bool) error {
	tables, err := catalog.ListTables(ctx, buf, seq.DBID)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if t.Sequence != nil || t.View != "" {
			continue
		}
		changed := false
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Default == "" || sequenceOfDefault(c.Default) != seq.Name {
				continue
			}
			if !cascade {
				return errcode.New(errcode.InvalidInput, "cannot drop sequence %q: the default of column %q of table %q uses it (drop the table first, or use DROP SEQUENCE ... CASCADE)", seq.Name, c.Name, t.Name)
			}
			c.Default, c.Identity, changed = "", "", true
		}
		if changed {
			if err := catalog.UpdateTable(ctx, buf, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// sequenceOfDefault returns the sequence a DEFAULT nextval('name') names
// ("" for any other default).
func sequenceOfDefault(text string) string {
	e, err := plan.ParseExpr(text)
	if err != nil {
		return ""
	}
	call, ok := e.(*ast.FuncCall)
	if !ok || len(call.Args) != 1 || (call.Name != "nextval" && call.Name != "NEXTVAL") {
		return ""
	}
	lit, ok := call.Args[0].(*ast.Literal)
	if !ok || lit.Value.Kind != types.String {
		return ""
	}
	return lit.Value.Str
}

// nextvalDefault is the DEFAULT text of a column that owns sequence name.
func nextvalDefault(name string) string {
	return ast.FormatExpr(&ast.FuncCall{Name: "nextval", Args: []ast.Expr{&ast.Literal{Value: types.NewString(name)}}})
}

// serialColumn makes col a SERIAL or identity column: NOT NULL, its
// DEFAULT nextval of the sequence it will own, named table_column_seq (a
// number appended while the name is taken) or by SEQUENCE NAME.
func serialColumn(p *plan.Planner, table string, col *catalog.ColumnDesc, c *ast.ColumnDef, taken map[string]bool) error {
	if c.Default != nil {
		return errcode.New(errcode.InvalidInput, "multiple default values specified for column %q of table %q", c.Name, table)
	}
	if col.Kind != types.Int64 {
		return errcode.New(errcode.InvalidSequence, "identity column type must be SMALLINT, INTEGER or BIGINT, not %s", c.TypeText)
	}
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	free := func(name string) (bool, error) {
		if taken[name] || name == table {
			return false, nil
		}
		t, err := catalog.LookupTable(p.Ctx, p.KV, db.ID, name)
		return t == nil, err
	}
	name := ""
	for _, o := range c.IdentityOptions {
		if o.Kind == "SEQUENCE NAME" {
			name = o.Name
		}
	}
	if name != "" {
		ok, err := free(name)
		if err != nil {
			return err
		}
		if !ok {
			return errcode.New(errcode.TableExists, "relation %q already exists", name)
		}
	} else {
		base := table + "_" + c.Name + "_seq"
		name = base
		for i := 1; ; i++ {
			ok, err := free(name)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			name = base + strconv.Itoa(i)
		}
	}
	if err := catalog.ValidateName(name); err != nil {
		return err
	}
	taken[name] = true
	col.NotNull = true
	col.Default = nextvalDefault(name)
	col.Identity = c.Identity
	return nil
}

// createOwnedSequences creates the sequences of t's SERIAL and identity
// columns (defs), owned by them, once t has its id.
func createOwnedSequences(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, defs []ast.ColumnDef) error {
	for i := range defs {
		def := &defs[i]
		if !def.Serial && def.Identity == "" {
			continue
		}
		col := &t.Columns[t.ColumnOrdinal(def.Name)]
		opts, _, _ := sequenceOptions(def.IdentityOptions)
		if opts.Width == nil {
			w := col.Width
			if w == 0 {
				w = 64
			}
			opts.Width = &w
		}
		d, err := catalog.ApplySequenceOptions(nil, opts)
		if err != nil {
			return err
		}
		if lo, hi := catalog.TypeBounds(col.Width); d.Min < lo || d.Max > hi {
			return errcode.New(errcode.InvalidSequence, "the bounds of the sequence of column %q (%d..%d) do not fit its type", col.Name, d.Min, d.Max)
		}
		d.OwnerTable, d.OwnerColumn = t.ID, col.ID
		if err := catalog.CreateSequence(ctx, buf, catalog.NewSequenceTable(t.DBID, sequenceOfDefault(col.Default), d)); err != nil {
			return err
		}
	}
	return nil
}

// dropOwnedSequences drops the sequences t's columns own (column 0: all).
func dropOwnedSequences(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, column uint32) error {
	return DropOwnedSequences(ctx, buf, t, column)
}

// DropOwnedSequences drops the sequences column of t owns (all of t's when
// column is 0), in kv's transaction: the DROP COLUMN job calls it when it
// removes the column.
func DropOwnedSequences(ctx context.Context, buf catalog.KV, t *catalog.TableDesc, column uint32) error {
	tables, err := catalog.ListTables(ctx, buf, t.DBID)
	if err != nil {
		return err
	}
	for _, s := range catalog.OwnedSequences(tables, t, column) {
		if err := catalog.DropSequence(ctx, buf, s); err != nil {
			return err
		}
	}
	return nil
}

// SequenceOptionsText is a sequence's definition as CREATE SEQUENCE
// options (every option spelled out, OWNED BY left out).
func SequenceOptionsText(d *catalog.SequenceDesc) string {
	typ := map[uint8]string{16: "SMALLINT", 32: "INTEGER"}[d.Width]
	if typ == "" {
		typ = "BIGINT"
	}
	opts := []ast.SequenceOption{{Kind: "AS", TypeText: typ}, {Kind: "INCREMENT", Value: d.Increment},
		{Kind: "MINVALUE", Value: d.Min}, {Kind: "MAXVALUE", Value: d.Max}, {Kind: "START", Value: d.Start},
		{Kind: "CACHE", Value: d.Cache}, {Kind: "NO CYCLE"}}
	if d.Cycle {
		opts[len(opts)-1].Kind = "CYCLE"
	}
	return ast.FormatSequenceOptions(opts)
}

// showSequences lists the sequences of the database with what a dump
// needs to recreate them: options, current state, owner.
func showSequences(ctx context.Context, p *plan.Planner, kv catalog.KV) (*Result, error) {
	db, err := p.DatabaseDesc()
	if err != nil {
		return nil, err
	}
	tables, err := catalog.ListTables(ctx, kv, db.ID)
	if err != nil {
		return nil, err
	}
	byID := map[uint32]*catalog.TableDesc{}
	for _, t := range tables {
		byID[t.ID] = t
	}
	res := &Result{Kind: Rows, Columns: []plan.Column{{Name: "sequence_name", Kind: types.String},
		{Name: "options", Kind: types.String}, {Name: "last_value", Kind: types.Int64}, {Name: "is_called", Kind: types.Bool},
		{Name: "owned_by", Kind: types.String}, {Name: "identity", Kind: types.Bool}}}
	for _, t := range tables {
		if t.Sequence == nil {
			continue
		}
		st, found, err := catalog.GetSequenceState(ctx, kv, t.DBID, t.ID)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errcode.New(errcode.Corruption, "sequence %q has no state", t.Name)
		}
		owner, identity := types.NullValue, false
		if o := byID[t.Sequence.OwnerTable]; o != nil && t.Sequence.OwnerTable != 0 {
			if ord := o.ColumnOrdinalByID(t.Sequence.OwnerColumn); ord >= 0 {
				c := &o.Columns[ord]
				owner = types.NewString(ast.FormatIdent(o.Name) + "." + ast.FormatIdent(c.Name))
				identity = c.Identity != "" && sequenceOfDefault(c.Default) == t.Name
			}
		}
		res.Rows = append(res.Rows, []types.Value{types.NewString(t.Name), types.NewString(SequenceOptionsText(t.Sequence)[1:]),
			types.NewInt(st.Last), types.NewBool(st.Called), owner, types.NewBool(identity)})
	}
	return res, nil
}

// identitySequenceOption is the SEQUENCE NAME option SHOW CREATE TABLE
// writes for an identity column whose sequence is not named as CREATE
// TABLE would name it.
func identitySequenceOption(t *catalog.TableDesc, c *catalog.ColumnDesc) []ast.SequenceOption {
	name := sequenceOfDefault(c.Default)
	if name == "" || name == t.Name+"_"+c.Name+"_seq" {
		return nil
	}
	return []ast.SequenceOption{{Kind: "SEQUENCE NAME", Name: name}}
}

// restartOwnedSequences restarts the sequences t's columns own at their
// START value (TRUNCATE ... RESTART IDENTITY), in the statement's
// transaction.
func restartOwnedSequences(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc) error {
	tables, err := catalog.ListTables(ctx, buf, t.DBID)
	if err != nil {
		return err
	}
	for _, s := range catalog.OwnedSequences(tables, t, 0) {
		if err := catalog.PutSequenceState(buf, s.DBID, s.ID, catalog.StateFor(s.Sequence, s.Sequence.Start)); err != nil {
			return err
		}
	}
	return nil
}
