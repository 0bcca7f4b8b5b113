package exec

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// tableWriter maintains a table's rows and every index entry. Uniqueness
// is checked with point reads through the statement's WriteBuffer, which
// also makes concurrent violators conflict at commit (they read the same
// keys).
type tableWriter struct {
	t   *catalog.TableDesc
	buf *WriteBuffer
	// indexOrds[i] are the column positions of t.Indexes[i].
	indexOrds [][]int
	pkOrds    []int
	// checks are t's CHECK constraints (t.Checks order); nil: none, or
	// a writer that deletes only.
	checks []plan.Expr
	// deferPK: insert checks the primary key's absence at commit
	// (WriteBuffer.deferChecks).
	deferPK bool
}

func newTableWriter(t *catalog.TableDesc, buf *WriteBuffer) *tableWriter {
	w := &tableWriter{t: t, buf: buf, pkOrds: t.IndexOrdinals(&t.PrimaryKey)}
	for i := range t.Indexes {
		w.indexOrds = append(w.indexOrds, t.IndexOrdinals(&t.Indexes[i]))
	}
	return w
}

func writable(idx *catalog.IndexDesc) bool { return idx.State != catalog.IndexDeleteOnly }

// prepare coerces a full row to the column kinds and checks NOT NULL.
func (w *tableWriter) prepare(row []types.Value) error {
	for i := range row {
		col := &w.t.Columns[i]
		if !col.InPayload() {
			// Delete-only (a column being added or dropped): no value.
			row[i] = types.NullValue
			continue
		}
		v, err := coerce(row[i], col)
		if err != nil {
			return err
		}
		if v.IsNull() && col.NotNull && col.Enforced() {
			return errcode.New(errcode.NotNullViolation, "null value in column %q of table %q violates not-null constraint", col.Name, w.t.Name)
		}
		row[i] = v
	}
	return w.check(row)
}

// check evaluates the CHECK constraints on a full row: one that is false
// (not NULL) is CADB0033.
func (w *tableWriter) check(row []types.Value) error {
	for i := range w.checks {
		v, err := w.checks[i].Eval(row)
		if err != nil {
			return err
		}
		if v.Kind == types.Bool && !v.Bool {
			return errcode.New(errcode.CheckViolation, "new row for table %q violates check constraint %q", w.t.Name, w.t.Checks[i].Name)
		}
	}
	return nil
}

func (w *tableWriter) insert(ctx context.Context, row []types.Value) error {
	pk := w.t.EncodePK(row)
	key := w.t.RowKey(pk)
	// A statement that commits at once leaves the primary key's check to
	// the commit (WriteBuffer.PutIfAbsent): no read before it.
	deferred := false
	if w.deferPK {
		exists, known := w.buf.buffered(string(key))
		if exists {
			return duplicatePK(w.t)
		}
		deferred = !known
	} else if _, found, err := w.buf.Get(ctx, key); err != nil {
		return err
	} else if found {
		return duplicatePK(w.t)
	}
	for i := range w.t.Indexes {
		if err := w.checkUnique(ctx, &w.t.Indexes[i], row); err != nil {
			return err
		}
	}
	if deferred {
		if err := w.buf.PutIfAbsent(key, w.t.EncodeRowValue(row), duplicatePKMessage(w.t)); err != nil {
			return err
		}
	} else if err := w.buf.Put(key, w.t.EncodeRowValue(row)); err != nil {
		return err
	}
	for i := range w.t.Indexes {
		idx := &w.t.Indexes[i]
		if !writable(idx) {
			continue
		}
		k, v := w.t.IndexEntry(idx, row, pk)
		if err := w.buf.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

func duplicatePK(t *catalog.TableDesc) error {
	return errcode.New(errcode.UniqueViolation, "%s", duplicatePKMessage(t))
}

// duplicatePKMessage is built for every row an INSERT writes (the kv layer
// reports it only on a conflict), so it avoids fmt: one concatenation.
func duplicatePKMessage(t *catalog.TableDesc) string {
	return "duplicate primary key in table " + strconv.Quote(t.Name)
}

func (w *tableWriter) checkUnique(ctx context.Context, idx *catalog.IndexDesc, row []types.Value) error {
	if !writable(idx) {
		return nil
	}
	probe, ok := w.t.UniqueProbeKey(idx, row)
	if !ok {
		return nil
	}
	_, found, err := w.buf.Get(ctx, probe)
	if err != nil {
		return err
	}
	if found {
		return errcode.New(errcode.UniqueViolation, "duplicate key value violates unique index %q of table %q", idx.Name, w.t.Name)
	}
	return nil
}

func (w *tableWriter) delete(row []types.Value) error {
	pk := w.t.EncodePK(row)
	if err := w.buf.Delete(w.t.RowKey(pk)); err != nil {
		return err
	}
	for i := range w.t.Indexes {
		k, _ := w.t.IndexEntry(&w.t.Indexes[i], row, pk)
		if err := w.buf.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

type rowChange struct {
	old, new  []types.Value
	oldPK     []byte
	newPK     []byte
	pkChanged bool
}

func columnsChanged(ords []int, a, b []types.Value) bool {
	for _, o := range ords {
		if !identical(a[o], b[o]) {
			return true
		}
	}
	return false
}

// identical reports whether two values are the same value of the same kind
// (so they encode to the same key bytes).
func identical(a, b types.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == types.Float64 {
		return math.Float64bits(a.Float) == math.Float64bits(b.Float)
	}
	return a == b
}

// update applies a set of row changes with statement-level uniqueness:
// first every replaced key and index entry is removed, then the new ones
// are checked and written, so UPDATE t SET k = k + 1 succeeds when the
// final state is unique.
func (w *tableWriter) update(ctx context.Context, changes []rowChange) error {
	for i := range changes {
		c := &changes[i]
		c.oldPK = w.t.EncodePK(c.old)
		c.newPK = w.t.EncodePK(c.new)
		c.pkChanged = !slices.Equal(c.oldPK, c.newPK)
		if c.pkChanged {
			if err := w.buf.Delete(w.t.RowKey(c.oldPK)); err != nil {
				return err
			}
		}
		for j := range w.t.Indexes {
			if c.pkChanged || columnsChanged(w.indexOrds[j], c.old, c.new) {
				k, _ := w.t.IndexEntry(&w.t.Indexes[j], c.old, c.oldPK)
				if err := w.buf.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	for i := range changes {
		c := &changes[i]
		key := w.t.RowKey(c.newPK)
		if c.pkChanged {
			if _, found, err := w.buf.Get(ctx, key); err != nil {
				return err
			} else if found {
				return errcode.New(errcode.UniqueViolation, "duplicate primary key in table %q", w.t.Name)
			}
		}
		if err := w.buf.Put(key, w.t.EncodeRowValue(c.new)); err != nil {
			return err
		}
		for j := range w.t.Indexes {
			idx := &w.t.Indexes[j]
			if !writable(idx) || !(c.pkChanged || columnsChanged(w.indexOrds[j], c.old, c.new)) {
				continue
			}
			if err := w.checkUnique(ctx, idx, c.new); err != nil {
				return err
			}
			k, v := w.t.IndexEntry(idx, c.new, c.newPK)
			if err := w.buf.Put(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// coerce converts v to the type of col where SQL allows it implicitly:
// INT64 into FLOAT64, an integral FLOAT64 into INT64, a 24-hex-digit
// STRING into OID, a STRING into a kind with text input (BYTEA...) by
// parsing it. Anything else of the wrong kind is CADB0400. The value is
// then made to fit the column's modifiers (types.T.Conform: narrow
// integer range, VARCHAR(n)/CHAR(n) length).
func coerce(v types.Value, col *catalog.ColumnDesc) (types.Value, error) {
	if v.IsNull() {
		return v, nil
	}
	if v.Kind != col.Kind {
		c, err := convertKind(v, col)
		if err != nil {
			return c, err
		}
		v = c
	}
	if col.Mod == (types.Mod{}) {
		return v, nil
	}
	return col.Type().Conform(v, false)
}

func convertKind(v types.Value, col *catalog.ColumnDesc) (types.Value, error) {
	switch {
	case v.Kind == types.Int64 && col.Kind == types.Float64:
		return types.NewFloat(float64(v.Int)), nil
	case v.Kind == types.Float64 && col.Kind == types.Int64:
		if v.Float == math.Trunc(v.Float) && v.Float >= -(1<<63) && v.Float < 1<<63 {
			return types.NewInt(int64(v.Float)), nil
		}
	case v.Kind == types.String && col.Kind == types.OID:
		if id, err := types.ParseOID(v.Str); err == nil {
			return id, nil
		}
	case v.Kind == types.String && types.TextInput(col.Kind):
		return types.ParseText(col.Kind, v.Str)
	case col.Kind == types.Numeric && v.Kind == types.Int64:
		return types.NumericFromInt(v.Int), nil
	case col.Kind == types.Numeric && v.Kind == types.Float64:
		return types.NumericFromFloat(v.Float)
	case v.Kind == types.Numeric && (col.Kind == types.Int64 || col.Kind == types.Float64):
		return builtins.Cast(v, col.Kind)
	}
	return types.Value{}, errcode.New(errcode.InvalidInput, "column %q is %s, cannot store %s value %s", col.Name, col.Type(), v.Kind, v.String())
}

// assignable reports whether values of kind from may be stored in a column
// of kind to (some values may still fail).
func assignable(from, to types.Kind) bool {
	return from == types.Null || from == to ||
		(from == types.Int64 && to == types.Float64) ||
		(from == types.Float64 && to == types.Int64) ||
		(from == types.String && (to == types.OID || types.TextInput(to))) ||
		(to == types.Numeric && (from == types.Int64 || from == types.Float64)) ||
		(from == types.Numeric && (to == types.Int64 || to == types.Float64))
}

// runInsert executes an INSERT plan and returns the number of rows written.
func runInsert(ctx context.Context, b *builder, buf *WriteBuffer, n *plan.Insert, ret *returned) (int64, error) {
	w := newTableWriter(n.Table, buf)
	w.checks = n.Checks
	// ON CONFLICT looks for the conflicting row itself.
	w.deferPK = buf.deferChecks && n.OnConflict == nil
	// pos[o] is the source position of table column o, -1 when untargeted.
	pos := make([]int, len(n.Table.Columns))
	for o := range pos {
		pos[o] = -1
	}
	for i, o := range n.Targets {
		pos[o] = i
	}
	// build makes a full row; explicit[i] false means source value i is
	// DEFAULT (explicit nil: every source value is explicit).
	build := func(src []types.Value, explicit []bool) ([]types.Value, error) {
		row := make([]types.Value, len(n.Table.Columns))
		for o := range row {
			if i := pos[o]; i >= 0 && (explicit == nil || explicit[i]) {
				row[o] = src[i]
				continue
			}
			if d := n.Defaults[o]; d != nil {
				v, err := d.Eval(nil)
				if err != nil {
					return nil, err
				}
				row[o] = v
			}
		}
		if err := w.prepare(row); err != nil {
			return nil, err
		}
		return row, nil
	}
	// buildValues evaluates one VALUES row (nil expressions are DEFAULT)
	// and builds it.
	buildValues := func(exprs []*plan.Expr) ([]types.Value, error) {
		src := make([]types.Value, len(exprs))
		explicit := make([]bool, len(exprs))
		for i, e := range exprs {
			if e == nil {
				continue // DEFAULT
			}
			v, err := e.Eval(nil)
			if err != nil {
				return nil, err
			}
			src[i], explicit[i] = v, true
		}
		return build(src, explicit)
	}
	var count int64
	var conflicts *conflictHandler
	if n.OnConflict != nil {
		conflicts = &conflictHandler{w: w, plan: n.OnConflict, touched: map[string]bool{}}
	}
	// write inserts a built row, or applies ON CONFLICT when it conflicts.
	write := func(row []types.Value) error {
		if conflicts != nil {
			written, handled, err := conflicts.handle(ctx, row)
			if err != nil || handled {
				if written != nil {
					count++
					err = ret.add(written)
				}
				return err
			}
		}
		if err := w.insert(ctx, row); err != nil {
			return err
		}
		if conflicts != nil {
			conflicts.touched[string(w.t.EncodePK(row))] = true
		}
		count++
		return ret.add(row)
	}
	if !w.deferPK && n.Query == nil && conflicts == nil && !hasUniqueIndex(n.Table) {
		// A VALUES list checks its primary keys a chunk at a time with one
		// span scan (insertBatch) instead of a point read per row. Rows
		// are built in order; a row that fails to build first has the
		// rows before it inserted, so errors are the row-by-row ones.
		chunk := make([][]types.Value, 0, min(len(n.Values), valuesChunk))
		flush := func() error {
			if len(chunk) == 0 {
				return nil
			}
			if err := w.insertBatch(ctx, chunk, nil); err != nil {
				return err
			}
			for _, row := range chunk {
				count++
				if err := ret.add(row); err != nil {
					return err
				}
			}
			chunk = chunk[:0]
			return nil
		}
		for _, exprs := range n.Values {
			row, err := buildValues(exprs)
			if err != nil {
				return 0, firstErr(flush(), err)
			}
			if chunk = append(chunk, row); len(chunk) == valuesChunk {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		if err := flush(); err != nil {
			return 0, err
		}
		return count, nil
	}
	if n.Query == nil {
		for _, exprs := range n.Values {
			row, err := buildValues(exprs)
			if err != nil {
				return 0, err
			}
			if err := write(row); err != nil {
				return 0, err
			}
		}
		return count, nil
	}
	op, err := b.build(n.Query)
	if err != nil {
		return 0, err
	}
	defer op.Close()
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			return 0, err
		}
		if len(batch) == 0 {
			return count, nil
		}
		for _, src := range batch {
			row, err := build(src, nil)
			if err != nil {
				return 0, err
			}
			if err := write(row); err != nil {
				return 0, err
			}
		}
	}
}

// firstErr returns a when set, b otherwise: the rows before a failing one
// are checked first, as row by row.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// valuesChunk is how many rows of a VALUES list insertBatch checks at once.
const valuesChunk = 1024

// hasUniqueIndex reports whether t has a unique secondary index: an
// INSERT checks those row by row, interleaved with its primary keys.
func hasUniqueIndex(t *catalog.TableDesc) bool {
	for i := range t.Indexes {
		if t.Indexes[i].Unique {
			return true
		}
	}
	return false
}

// runUpdate executes an UPDATE plan. It reads every matching row first and
// then writes, so it never sees its own writes.
func runUpdate(ctx context.Context, b *builder, buf *WriteBuffer, n *plan.Update, ret *returned) (int64, error) {
	w := newTableWriter(n.Table, buf)
	w.checks = n.Checks
	op, err := b.build(n.Source)
	if err != nil {
		return 0, err
	}
	defer op.Close()
	var changes []rowChange
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			return 0, err
		}
		if len(batch) == 0 {
			break
		}
		for _, old := range batch {
			row := slices.Clone(old)
			for _, a := range n.Set {
				if row[a.Column], err = a.Expr.Eval(old); err != nil {
					return 0, err
				}
			}
			if err := w.prepare(row); err != nil {
				return 0, err
			}
			// The changes are held until the writes (bounded by the
			// node's budget; they cannot spill).
			if err := b.mem.Grow(rowSize(old)+rowSize(row), "UPDATE"); err != nil {
				return 0, err
			}
			changes = append(changes, rowChange{old: old, new: row})
		}
	}
	if err := w.update(ctx, changes); err != nil {
		return 0, err
	}
	for _, c := range changes {
		if err := ret.add(c.new); err != nil {
			return 0, err
		}
	}
	return int64(len(changes)), nil
}

// runDelete executes a DELETE plan.
func runDelete(ctx context.Context, b *builder, buf *WriteBuffer, n *plan.Delete, ret *returned) (int64, error) {
	w := newTableWriter(n.Table, buf)
	op, err := b.build(n.Source)
	if err != nil {
		return 0, err
	}
	defer op.Close()
	var count int64
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			return 0, err
		}
		if len(batch) == 0 {
			return count, nil
		}
		for _, row := range batch {
			if err := w.delete(row); err != nil {
				return 0, err
			}
			if err := ret.add(row); err != nil {
				return 0, err
			}
			count++
		}
	}
}
