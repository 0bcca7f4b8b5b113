package parser

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"strconv"
	"strings"
)

func (p *parser) parseStatement() (ast.Statement, error) {
	t := p.peek()
	if t.kind == tkLParen {
		return p.parseSelectStmt()
	}
	if t.kind != tkIdent {
		return nil, p.errExpected("a statement")
	}
	if t.isWord("cancel") {
		if p.peekN(1).isWord("job") {
			return p.parseControlJob()
		}
		return p.parseCancelQuery()
	}
	if (t.isWord("pause") || t.isWord("resume")) && p.peekN(1).isWord("job") {
		return p.parseControlJob()
	}
	if stmt, ok, err := p.parsePostgresStatement(t); ok {
		return stmt, err
	}
	switch t.kw {
	case kwSelect, kwWith:
		return p.parseSelectStmt()
	case kwCreate:
		return p.parseCreate()
	case kwDrop:
		return p.parseDrop()
	case kwAlter:
		return p.parseAlter()
	case kwRename:
		return p.parseRenameDatabase()
	case kwInsert:
		return p.parseInsert()
	case kwUpdate:
		return p.parseUpdate()
	case kwDelete:
		return p.parseDelete()
	case kwExplain:
		return p.parseExplain()
	case kwBegin:
		p.next()
		p.acceptTxnNoise()
		if err := p.parseTxnModes(); err != nil {
			return nil, err
		}
		return &ast.Begin{At: t.at()}, nil
	case kwStart:
		p.next()
		if _, err := p.expectKw(kwTransaction); err != nil {
			return nil, err
		}
		if err := p.parseTxnModes(); err != nil {
			return nil, err
		}
		return &ast.Begin{At: t.at()}, nil
	case kwCommit, kwEnd: // END is PostgreSQL's spelling of COMMIT
		p.next()
		p.acceptTxnNoise()
		return &ast.Commit{At: t.at()}, nil
	case kwRollback:
		p.next()
		p.acceptTxnNoise()
		return &ast.Rollback{At: t.at()}, nil
	case kwUse:
		p.next()
		name, err := p.ident("database name")
		if err != nil {
			return nil, err
		}
		return &ast.Use{At: t.at(), Name: name}, nil
	case kwShow:
		return p.parseShow()
	case kwDescribe, kwDesc:
		p.next()
		name, err := p.ident("table name")
		if err != nil {
			return nil, err
		}
		return &ast.Show{At: t.at(), What: "COLUMNS", Table: name}, nil
	}
	if p.isWord("grant") || p.isWord("revoke") {
		return p.parseGrantOrRevoke()
	}
	return nil, p.errExpected("a statement")
}

// acceptTxnNoise skips the optional TRANSACTION / WORK after BEGIN, COMMIT
// and ROLLBACK.
func (p *parser) acceptTxnNoise() {
	if !p.acceptKw(kwTransaction) {
		p.acceptKw(kwWork)
	}
}

// parseTxnModes accepts the transaction modes drivers send with BEGIN:
// ISOLATION LEVEL <any level> and READ WRITE, comma-separated. Every
// transaction is serializable, which satisfies any requested level (as in
// PostgreSQL, asking for a weaker level may give a stronger one). READ
// ONLY is refused because it is not enforced.
func (p *parser) parseTxnModes() error {
	for first := true; ; first = false {
		if !first && !p.accept(tkComma) {
			return nil
		}
		t := p.peek()
		switch {
		case t.isKw(kwIsolation):
			p.next()
			if _, err := p.expectKw(kwLevel); err != nil {
				return err
			}
			switch {
			case p.acceptKw(kwSerializable):
			case p.acceptKw(kwRepeatable):
				if _, err := p.expectKw(kwRead); err != nil {
					return err
				}
			case p.acceptKw(kwRead):
				if !p.acceptKw(kwCommitted) && !p.acceptKw(kwUncommitted) {
					return p.errExpected("COMMITTED or UNCOMMITTED")
				}
			default:
				return p.errExpected("SERIALIZABLE, REPEATABLE READ, READ COMMITTED or READ UNCOMMITTED")
			}
		case t.isKw(kwRead):
			p.next()
			if o := p.peek(); o.isKw(kwOnly) {
				return p.errCode(o, errcode.Unsupported, "READ ONLY transactions are not supported")
			}
			if _, err := p.expectKw(kwWrite); err != nil {
				return err
			}
		default:
			if first {
				return nil
			}
			return p.errExpected("ISOLATION LEVEL or READ WRITE")
		}
	}
}

func (p *parser) parseSelectStmt() (ast.Statement, error) {
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	stmt := &ast.SelectStmt{Select: q}
	if p.lockingClauseAhead() {
		if stmt.Locking, err = p.parseLocking(); err != nil {
			return nil, err
		}
	}
	return stmt, nil
}

// ---------------------------------------------------------------- CREATE / DROP

func (p *parser) acceptIfNotExists() bool {
	if p.isKw(kwIf) && p.peekN(1).isKw(kwNot) && p.peekN(2).isKw(kwExists) {
		p.pos += 3
		return true
	}
	return false
}

func (p *parser) acceptIfExists() bool {
	if p.isKw(kwIf) && p.peekN(1).isKw(kwExists) {
		p.pos += 2
		return true
	}
	return false
}

func (p *parser) parseCreate() (ast.Statement, error) {
	start := p.next()
	switch {
	case p.isUserOrRole():
		return p.parseCreateUser(start)
	case p.acceptKw(kwDatabase):
		ifNot := p.acceptIfNotExists()
		name, err := p.ident("database name")
		if err != nil {
			return nil, err
		}
		return &ast.CreateDatabase{At: start.at(), Name: name, IfNotExists: ifNot}, nil
	case p.acceptKw(kwTable):
		return p.parseCreateTable(start)
	case p.isKw(kwUnique) || p.isKw(kwIndex):
		unique := p.acceptKw(kwUnique)
		if _, err := p.expectKw(kwIndex); err != nil {
			return nil, err
		}
		stmt := &ast.CreateIndex{At: start.at(), IfNotExists: p.acceptIfNotExists()}
		stmt.Index.At = start.at()
		stmt.Index.Unique = unique
		var err error
		if stmt.Index.Name, err = p.ident("index name"); err != nil {
			return nil, err
		}
		if _, err := p.expectKw(kwOn); err != nil {
			return nil, err
		}
		if stmt.Table, err = p.ident("table name"); err != nil {
			return nil, err
		}
		if stmt.Index.Columns, err = p.parseIndexColumns(); err != nil {
			return nil, err
		}
		return stmt, nil
	}
	if stmt, ok, err := p.parseUnsupportedCreate(start); ok {
		return stmt, err
	}
	return nil, p.errExpected("DATABASE, TABLE or INDEX")
}

func (p *parser) parseCreateTable(start *token) (ast.Statement, error) {
	stmt := &ast.CreateTable{At: start.at(), IfNotExists: p.acceptIfNotExists()}
	var err error
	if stmt.Name, err = p.ident("table name"); err != nil {
		return nil, err
	}
	if ok, err := p.parseCreateTableAs(stmt); ok || err != nil {
		return stmt, err
	}
	if _, err := p.expect(tkLParen, "'('"); err != nil {
		return nil, err
	}
	for {
		if err := p.parseTableElement(stmt); err != nil {
			return nil, err
		}
		if p.accept(tkComma) {
			continue
		}
		if _, err := p.expect(tkRParen, "',' or ')'"); err != nil {
			return nil, err
		}
		break
	}
	// Spanner-style trailing PRIMARY KEY (...).
	if t := p.peek(); t.isKw(kwPrimary) {
		p.next()
		if _, err := p.expectKw(kwKey); err != nil {
			return nil, err
		}
		cols, err := p.parseIndexColumns()
		if err != nil {
			return nil, err
		}
		stmt.Indexes = append(stmt.Indexes, ast.IndexDef{At: t.at(), Primary: true, Columns: cols})
	}
	if err := p.parseStorageParameters(); err != nil {
		return nil, err
	}
	return stmt, nil
}

// looksLikeIndexDef decides, at KEY or INDEX (non-reserved words), whether
// a table-level index definition follows rather than a column of that name:
// "KEY (a)", "KEY name (a)" are indexes; "key INT64", "key VARCHAR(20)" are
// columns.
func (p *parser) looksLikeIndexDef() bool {
	n1 := p.peekN(1)
	if n1.kind == tkLParen {
		return true
	}
	return n1.isIdent() && p.peekN(2).kind == tkLParen && p.peekN(3).kind != tkInt
}

// parseCheck parses CHECK (expr) for a constraint named name ("": none).
func (p *parser) parseCheck(start *token, name string) (*ast.CheckDef, error) {
	p.next() // CHECK
	if _, err := p.expect(tkLParen, "'('"); err != nil {
		return nil, err
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return &ast.CheckDef{At: start.at(), Name: name, Expr: e}, nil
}

func (p *parser) parseTableElement(stmt *ast.CreateTable) error {
	t := p.peek()
	switch {
	case t.isWord("constraint") && p.peekN(1).isIdent() && isConstraintKind(p.peekN(2)):
		p.next()
		name, err := p.ident("constraint name")
		if err != nil {
			return err
		}
		kind := p.peek()
		switch {
		case kind.isWord("check"):
			c, err := p.parseCheck(t, name)
			if err != nil {
				return err
			}
			stmt.Checks = append(stmt.Checks, *c)
			return nil
		case kind.isKw(kwUnique):
			p.next()
			cols, err := p.parseIndexColumns()
			if err != nil {
				return err
			}
			stmt.Indexes = append(stmt.Indexes, ast.IndexDef{At: t.at(), Name: name, Unique: true, Columns: cols})
			return nil
		case kind.isKw(kwPrimary):
			cols, err := p.parsePrimaryKeyColumns()
			if err != nil {
				return err
			}
			stmt.Indexes = append(stmt.Indexes, ast.IndexDef{At: t.at(), Primary: true, Columns: cols})
			return nil
		}
		return p.errCode(kind, errcode.Unsupported, "FOREIGN KEY constraints are not supported")
	case t.isWord("check") && p.peekN(1).kind == tkLParen:
		c, err := p.parseCheck(t, "")
		if err != nil {
			return err
		}
		stmt.Checks = append(stmt.Checks, *c)
		return nil
	case t.isKw(kwPrimary):
		cols, err := p.parsePrimaryKeyColumns()
		if err != nil {
			return err
		}
		stmt.Indexes = append(stmt.Indexes, ast.IndexDef{At: t.at(), Primary: true, Columns: cols})
		return nil
	case t.isKw(kwUnique):
		p.next()
		if !p.acceptKw(kwKey) {
			p.acceptKw(kwIndex)
		}
		def, err := p.parseIndexNameAndColumns(t, true)
		if err != nil {
			return err
		}
		stmt.Indexes = append(stmt.Indexes, def)
		return nil
	case (t.isKw(kwKey) || t.isKw(kwIndex)) && p.looksLikeIndexDef():
		p.next()
		def, err := p.parseIndexNameAndColumns(t, false)
		if err != nil {
			return err
		}
		stmt.Indexes = append(stmt.Indexes, def)
		return nil
	}
	col, err := p.parseColumnDef()
	if err != nil {
		return err
	}
	stmt.Columns = append(stmt.Columns, *col)
	return nil
}

// parseIndexNameAndColumns parses [name] (cols) after UNIQUE [KEY|INDEX] or
// KEY|INDEX.
func (p *parser) parseIndexNameAndColumns(start *token, unique bool) (ast.IndexDef, error) {
	def := ast.IndexDef{At: start.at(), Unique: unique}
	if p.peek().kind != tkLParen {
		name, err := p.ident("index name or '('")
		if err != nil {
			return def, err
		}
		def.Name = name
	}
	cols, err := p.parseIndexColumns()
	if err != nil {
		return def, err
	}
	def.Columns = cols
	return def, nil
}

// parseIndexColumns parses (col [ASC|DESC], ...).
func (p *parser) parseIndexColumns() ([]ast.IndexColumn, error) {
	if _, err := p.expect(tkLParen, "'('"); err != nil {
		return nil, err
	}
	var cols []ast.IndexColumn
	for {
		name, err := p.ident("column name")
		if err != nil {
			return nil, err
		}
		col := ast.IndexColumn{Column: name}
		if p.acceptKw(kwDesc) {
			col.Desc = true
		} else {
			p.acceptKw(kwAsc)
		}
		cols = append(cols, col)
		if p.accept(tkComma) {
			continue
		}
		if _, err := p.expect(tkRParen, "',' or ')'"); err != nil {
			return nil, err
		}
		return cols, nil
	}
}

// parseColumnDef parses name type [NOT NULL | NULL | DEFAULT expr |
// PRIMARY KEY | UNIQUE [KEY]]...
func (p *parser) parseColumnDef() (*ast.ColumnDef, error) {
	start := p.peek()
	name, err := p.ident("column name")
	if err != nil {
		return nil, err
	}
	col := &ast.ColumnDef{At: start.at(), Name: name}
	if !p.parseSerialType(col) { // sequence.go
		if col.Type, col.TypeText, err = p.parseType(); err != nil {
			return nil, err
		}
	}
	for {
		t := p.peek()
		switch {
		case t.isKw(kwNot):
			p.next()
			if _, err := p.expectKw(kwNull); err != nil {
				return nil, err
			}
			if col.Null {
				return nil, p.errAt(t, "conflicting NULL and NOT NULL")
			}
			col.NotNull = true
		case t.isKw(kwNull):
			p.next()
			if col.NotNull {
				return nil, p.errAt(t, "conflicting NULL and NOT NULL")
			}
			col.Null = true
		case t.isKw(kwDefault):
			p.next()
			if col.Default != nil {
				return nil, p.errAt(t, "multiple DEFAULT clauses")
			}
			// Like PostgreSQL's b_expr: no comparisons or boolean operators
			// without parentheses, so "DEFAULT 1 NOT NULL" reads naturally.
			if col.Default, err = p.parseBinary(precAdd); err != nil {
				return nil, err
			}
		case t.isKw(kwPrimary):
			p.next()
			if _, err := p.expectKw(kwKey); err != nil {
				return nil, err
			}
			col.PrimaryKey = true
		case t.isKw(kwUnique):
			p.next()
			p.acceptKw(kwKey)
			col.Unique = true
		case t.isWord("check") && p.peekN(1).kind == tkLParen:
			c, err := p.parseCheck(t, "")
			if err != nil {
				return nil, err
			}
			col.Checks = append(col.Checks, *c)
		case t.isWord("constraint") && p.peekN(1).isIdent() && p.peekN(2).isWord("check"):
			p.next()
			name, err := p.ident("constraint name")
			if err != nil {
				return nil, err
			}
			c, err := p.parseCheck(t, name)
			if err != nil {
				return nil, err
			}
			col.Checks = append(col.Checks, *c)
		case t.isWord("generated"):
			p.next()
			if col.Identity != "" || col.Serial {
				return nil, p.errAt(t, "multiple identity specifications for column "+col.Name)
			}
			if err := p.parseIdentity(col, t); err != nil { // sequence.go
				return nil, err
			}
		default:
			return col, nil
		}
	}
}

// parseType parses a type name with an optional (n) length for VARCHAR and
// CHAR. Unknown names are CADB0401.
func (p *parser) parseType() (types.T, string, error) {
	t := p.peek()
	if !t.isIdent() {
		return types.T{}, "", p.errExpected("type name")
	}
	p.next()
	name, text, pg := p.postgresTypeName(t)
	if !pg {
		name, text = t.str, upper(t.str)
	}
	typ, ok := types.ParseType(name)
	if !ok {
		if _, serial := serialTypes[name]; serial {
			return types.T{}, "", p.errCode(t, errcode.Unsupported, "%s is not a type: it is only allowed as a column's type in CREATE TABLE", upper(name))
		}
		return types.T{}, "", p.errCode(t, errcode.UnknownType, "unknown type %q", p.src[t.off:t.end])
	}
	if (name == "varchar" || name == "char") && p.peek().kind == tkLParen {
		p.next()
		n, err := p.expect(tkInt, "type length")
		if err != nil {
			return types.T{}, "", err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return types.T{}, "", err
		}
		length, err := strconv.ParseInt(n.str, 10, 64)
		if err != nil {
			length = -1 // beyond int64: WithLength reports it out of range
		}
		if typ, err = typ.WithLength(length, name == "char"); err != nil {
			return types.T{}, "", p.errCode(n, errcode.InvalidInput, "%s", err.(*errcode.Error).Message)
		}
		text += "(" + n.str + ")"
	}
	if typ.Kind == types.Numeric && p.peek().kind == tkLParen {
		p.next()
		pt, err := p.expect(tkInt, "numeric precision")
		if err != nil {
			return types.T{}, "", err
		}
		prec, scale := parseTypeInt(pt.str), int64(0)
		text += "(" + pt.str
		if p.accept(tkComma) {
			st, err := p.expect(tkInt, "numeric scale")
			if err != nil {
				return types.T{}, "", err
			}
			scale = parseTypeInt(st.str)
			text += "," + st.str
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return types.T{}, "", err
		}
		text += ")"
		if typ, err = typ.WithPrecision(prec, scale); err != nil {
			return types.T{}, "", p.errCode(pt, errcode.InvalidInput, "%s", err.(*errcode.Error).Message)
		}
	}
	return typ, text, nil
}

// parseTypeInt reads a type modifier; -1 when it overflows (then out of
// every modifier's range).
func parseTypeInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (p *parser) parseDrop() (ast.Statement, error) {
	start := p.next()
	switch {
	case p.isUserOrRole():
		return p.parseDropUser(start)
	case p.acceptKw(kwDatabase):
		ifExists := p.acceptIfExists()
		name, err := p.ident("database name")
		if err != nil {
			return nil, err
		}
		return &ast.DropDatabase{At: start.at(), Name: name, IfExists: ifExists}, nil
	case p.acceptKw(kwTable):
		stmt := &ast.DropTable{At: start.at(), IfExists: p.acceptIfExists()}
		var err error
		if stmt.Names, stmt.Behavior, err = p.tableListAndBehavior(); err != nil {
			return nil, err
		}
		return stmt, nil
	case p.acceptKw(kwIndex):
		stmt := &ast.DropIndex{At: start.at(), IfExists: p.acceptIfExists()}
		var err error
		if stmt.Name, err = p.ident("index name"); err != nil {
			return nil, err
		}
		if _, err := p.expectKw(kwOn); err != nil {
			return nil, err
		}
		if stmt.Table, err = p.ident("table name"); err != nil {
			return nil, err
		}
		return stmt, nil
	}
	if stmt, ok, err := p.parseUnsupportedCreate(start); ok {
		return stmt, err
	}
	return nil, p.errExpected("DATABASE, TABLE or INDEX")
}

func (p *parser) parseRenameDatabase() (ast.Statement, error) {
	start := p.next()
	if _, err := p.expectKw(kwDatabase); err != nil {
		return nil, err
	}
	old, err := p.ident("database name")
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKw(kwTo); err != nil {
		return nil, err
	}
	newName, err := p.ident("new database name")
	if err != nil {
		return nil, err
	}
	return &ast.RenameDatabase{At: start.at(), Old: old, New: newName}, nil
}

// ---------------------------------------------------------------- ALTER TABLE

func (p *parser) parseAlter() (ast.Statement, error) {
	start := p.next()
	if p.isUserOrRole() {
		return p.parseAlterUser(start)
	}
	if p.isWord("sequence") {
		return p.parseAlterSequence(start) // sequence.go
	}
	if _, err := p.expectKw(kwTable); err != nil {
		return nil, err
	}
	table, err := p.ident("table name")
	if err != nil {
		return nil, err
	}
	stmt := &ast.AlterTable{At: start.at(), Table: table}
	t := p.peek()
	switch {
	case t.isKw(kwAdd):
		p.next()
		err = p.parseAlterAdd(stmt)
	case t.isKw(kwDrop):
		p.next()
		err = p.parseAlterDrop(stmt)
	case t.isKw(kwRename):
		p.next()
		err = p.parseAlterRename(stmt)
	case t.isKw(kwAlter):
		p.next()
		err = p.parseAlterColumn(stmt)
	default:
		return nil, p.errExpected("ADD, DROP, ALTER or RENAME")
	}
	if err != nil {
		return nil, err
	}
	return stmt, nil
}

// parseAlterColumn parses what follows ALTER TABLE t ALTER: [COLUMN] c
// SET DEFAULT e | DROP DEFAULT | SET NOT NULL | DROP NOT NULL |
// [SET DATA] TYPE type. Other PostgreSQL forms are CADB0407.
func (p *parser) parseAlterColumn(stmt *ast.AlterTable) error {
	p.acceptKw(kwColumn)
	name, err := p.ident("column name")
	if err != nil {
		return err
	}
	stmt.Name = name
	t := p.peek()
	switch {
	case t.isKw(kwSet) && p.peekN(1).isKw(kwDefault):
		p.next()
		p.next()
		stmt.Action = "SET DEFAULT"
		stmt.Default, err = p.parseBinary(precAdd)
		return err
	case t.isKw(kwDrop) && p.peekN(1).isKw(kwDefault):
		p.next()
		p.next()
		stmt.Action = "DROP DEFAULT"
		return nil
	case (t.isKw(kwSet) || t.isKw(kwDrop)) && p.peekN(1).isKw(kwNot):
		p.next()
		p.next()
		if _, err := p.expectKw(kwNull); err != nil {
			return err
		}
		stmt.Action = strings.ToUpper(t.str) + " NOT NULL"
		return nil
	case t.isKw(kwSet) && p.peekN(1).isWord("data") && p.peekN(2).isWord("type"):
		p.next()
		p.next()
		fallthrough
	case t.isWord("type") || p.peek().isWord("type"):
		at := p.next()
		typ, text, err := p.parseType()
		if err != nil {
			return err
		}
		if u := p.peek(); u.isWord("collate") || u.isWord("using") {
			return p.errCode(u, errcode.Unsupported, "ALTER COLUMN ... TYPE ... %s is not supported", strings.ToUpper(u.str))
		}
		stmt.Action = "ALTER TYPE"
		stmt.Column = &ast.ColumnDef{At: at.at(), Name: name, Type: typ, TypeText: text}
		return nil
	}
	return p.errCode(t, errcode.Unsupported, "ALTER COLUMN ... %s is not supported (SET DEFAULT, DROP DEFAULT, SET NOT NULL, DROP NOT NULL and TYPE are)", strings.ToUpper(t.str))
}

func (p *parser) parseAlterAdd(stmt *ast.AlterTable) error {
	t := p.peek()
	switch {
	case t.isWord("constraint") && p.peekN(1).isIdent() && isConstraintKind(p.peekN(2)):
		// ADD CONSTRAINT name UNIQUE (cols): a unique index of that name.
		// (ADD constraint T is still a column named "constraint".)
		p.next()
		name, err := p.ident("constraint name")
		if err != nil {
			return err
		}
		kind := p.peek()
		if kind.isWord("check") {
			c, err := p.parseCheck(t, name)
			if err != nil {
				return err
			}
			stmt.Action, stmt.Check = "ADD CHECK", c
			return nil
		}
		if !kind.isKw(kwUnique) {
			return p.errCode(kind, errcode.Unsupported, "ADD CONSTRAINT %s: only UNIQUE and CHECK constraints can be added (FOREIGN KEY constraints are not supported; a primary key is added with ADD PRIMARY KEY)", strings.ToUpper(kind.str))
		}
		p.next()
		cols, err := p.parseIndexColumns()
		if err != nil {
			return err
		}
		stmt.Action = "ADD INDEX"
		stmt.Index = &ast.IndexDef{At: t.at(), Name: name, Unique: true, Columns: cols}
		return nil
	case t.isWord("check") && p.peekN(1).kind == tkLParen:
		c, err := p.parseCheck(t, "")
		if err != nil {
			return err
		}
		stmt.Action, stmt.Check = "ADD CHECK", c
		return nil
	case t.isKw(kwColumn):
		p.next()
	case t.isKw(kwPrimary):
		cols, err := p.parsePrimaryKeyColumns()
		if err != nil {
			return err
		}
		stmt.Action = "ADD PRIMARY KEY"
		stmt.Index = &ast.IndexDef{At: t.at(), Primary: true, Columns: cols}
		return nil
	case t.isKw(kwUnique):
		p.next()
		if !p.acceptKw(kwIndex) {
			p.acceptKw(kwKey)
		}
		def, err := p.parseIndexNameAndColumns(t, true)
		if err != nil {
			return err
		}
		stmt.Action = "ADD INDEX"
		stmt.Index = &def
		return nil
	case (t.isKw(kwIndex) || t.isKw(kwKey)) && p.looksLikeIndexDef():
		p.next()
		def, err := p.parseIndexNameAndColumns(t, false)
		if err != nil {
			return err
		}
		stmt.Action = "ADD INDEX"
		stmt.Index = &def
		return nil
	}
	col, err := p.parseColumnDef()
	if err != nil {
		return err
	}
	stmt.Action = "ADD COLUMN"
	stmt.Column = col
	return nil
}

// parsePrimaryKeyColumns parses PRIMARY KEY (cols), at PRIMARY.
func (p *parser) parsePrimaryKeyColumns() ([]ast.IndexColumn, error) {
	p.next()
	if _, err := p.expectKw(kwKey); err != nil {
		return nil, err
	}
	return p.parseIndexColumns()
}

// isConstraintKind reports whether t starts a table constraint after
// CONSTRAINT name.
func isConstraintKind(t *token) bool {
	return t.isKw(kwUnique) || t.isKw(kwPrimary) || t.isWord("check") || t.isWord("foreign")
}

func (p *parser) parseAlterDrop(stmt *ast.AlterTable) error {
	t := p.peek()
	var err error
	switch {
	case t.isKw(kwColumn):
		p.next()
	case t.isKw(kwPrimary):
		p.next()
		if _, err := p.expectKw(kwKey); err != nil {
			return err
		}
		stmt.Action = "DROP PRIMARY KEY"
		return nil
	case (t.isKw(kwIndex) || t.isKw(kwKey)) && p.peekN(1).isIdent():
		p.next()
		if stmt.Name, err = p.ident("index name"); err != nil {
			return err
		}
		stmt.Action = "DROP INDEX"
		return nil
	case t.isWord("constraint") && p.peekN(1).isIdent() && (p.peekN(2).kind == tkEOF || p.peekN(2).kind == tkSemicolon):
		p.next()
		if stmt.Name, err = p.ident("constraint name"); err != nil {
			return err
		}
		stmt.Action = "DROP CONSTRAINT"
		return nil
	}
	if stmt.Name, err = p.ident("column name"); err != nil {
		return err
	}
	stmt.Action = "DROP COLUMN"
	return nil
}

func (p *parser) parseAlterRename(stmt *ast.AlterTable) error {
	var err error
	if p.isKw(kwColumn) {
		p.next()
		if stmt.Name, err = p.ident("column name"); err != nil {
			return err
		}
		if _, err := p.expectKw(kwTo); err != nil {
			return err
		}
		if stmt.NewName, err = p.ident("new column name"); err != nil {
			return err
		}
		stmt.Action = "RENAME COLUMN"
		return nil
	}
	if !p.acceptKw(kwTo) && !p.acceptKw(kwAs) {
		return p.errExpected("TO or COLUMN")
	}
	if stmt.NewName, err = p.ident("new table name"); err != nil {
		return err
	}
	stmt.Action = "RENAME TO"
	return nil
}

// ---------------------------------------------------------------- DML

func (p *parser) parseInsert() (ast.Statement, error) {
	start := p.next()
	if _, err := p.expectKw(kwInto); err != nil {
		return nil, err
	}
	stmt := &ast.Insert{At: start.at()}
	var err error
	if stmt.Table, err = p.ident("table name"); err != nil {
		return nil, err
	}
	if p.peek().kind == tkLParen && !p.startsQuery(1) {
		p.next()
		for {
			name, err := p.ident("column name")
			if err != nil {
				return nil, err
			}
			stmt.Columns = append(stmt.Columns, name)
			if p.accept(tkComma) {
				continue
			}
			if _, err := p.expect(tkRParen, "',' or ')'"); err != nil {
				return nil, err
			}
			break
		}
	}
	if p.isWord("overriding") {
		p.next()
		switch {
		case p.acceptWord("system"):
			stmt.Overriding = "SYSTEM"
		case p.acceptWord("user"):
			stmt.Overriding = "USER"
		default:
			return nil, p.errExpected("SYSTEM or USER")
		}
		if !p.acceptWord("value") {
			return nil, p.errExpected("VALUE")
		}
	}
	if p.acceptKw(kwValues) {
		for {
			row, err := p.parseValuesRow()
			if err != nil {
				return nil, err
			}
			stmt.Rows = append(stmt.Rows, row)
			if !p.accept(tkComma) {
				return p.insertTail(stmt)
			}
		}
	}
	if !p.startsQuery(0) {
		return nil, p.errExpected("VALUES or SELECT")
	}
	if stmt.Select, err = p.parseQuery(); err != nil {
		return nil, err
	}
	return p.insertTail(stmt)
}

// startsQuery reports whether the token at offset n starts a query
// (SELECT or WITH), looking through '(' (at most maxDepth of them: deeper
// input fails the nesting check anyway, and the bound keeps this linear).
func (p *parser) startsQuery(n int) bool {
	for limit := n + maxDepth; p.peekN(n).kind == tkLParen && n < limit; {
		n++
	}
	t := p.peekN(n)
	return t.isKw(kwSelect) || t.isKw(kwWith)
}

func (p *parser) parseValuesRow() ([]ast.Expr, error) {
	if _, err := p.expect(tkLParen, "'('"); err != nil {
		return nil, err
	}
	var row []ast.Expr
	for {
		if t := p.peek(); t.isKw(kwDefault) {
			p.next()
			row = append(row, &ast.DefaultExpr{At: t.at()})
		} else {
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			row = append(row, e)
		}
		if p.accept(tkComma) {
			continue
		}
		if _, err := p.expect(tkRParen, "',' or ')'"); err != nil {
			return nil, err
		}
		return row, nil
	}
}

// parseTableAlias parses an optional [AS] alias after a table name.
func (p *parser) parseTableAlias() (string, error) {
	if p.acceptKw(kwAs) {
		return p.ident("alias")
	}
	if t := p.peek(); t.isIdent() && !t.isWord("returning") && !t.isWord("using") && !p.lockingClauseAhead() { // reserved in PostgreSQL
		return p.next().str, nil
	}
	return "", nil
}

func (p *parser) parseUpdate() (ast.Statement, error) {
	start := p.next()
	stmt := &ast.Update{At: start.at()}
	var err error
	if stmt.Table, err = p.ident("table name"); err != nil {
		return nil, err
	}
	if stmt.Alias, err = p.parseTableAlias(); err != nil {
		return nil, err
	}
	if stmt.Set, err = p.parseSetList(); err != nil {
		return nil, err
	}
	if p.acceptKw(kwWhere) {
		if stmt.Where, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if stmt.Returning, err = p.parseReturning(); err != nil {
		return nil, err
	}
	return stmt, nil
}

func (p *parser) parseDelete() (ast.Statement, error) {
	start := p.next()
	if _, err := p.expectKw(kwFrom); err != nil {
		return nil, err
	}
	stmt := &ast.Delete{At: start.at()}
	var err error
	if stmt.Table, err = p.ident("table name"); err != nil {
		return nil, err
	}
	if stmt.Alias, err = p.parseTableAlias(); err != nil {
		return nil, err
	}
	if p.acceptKw(kwWhere) {
		if stmt.Where, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if stmt.Returning, err = p.parseReturning(); err != nil {
		return nil, err
	}
	return stmt, nil
}

// ---------------------------------------------------------------- EXPLAIN, SHOW

func (p *parser) parseExplain() (ast.Statement, error) {
	start := p.next()
	stmt := &ast.Explain{At: start.at()}
	var optTok *token
	switch t := p.peek(); {
	case t.kind == tkLParen && !p.startsQuery(0):
		p.next()
		optTok = p.peek()
		if optTok.kind != tkIdent {
			return nil, p.errExpected("EXPLAIN option")
		}
		p.next()
		if p.peek().kind == tkComma {
			return nil, p.errCode(p.peek(), errcode.InvalidInput, "EXPLAIN accepts a single option")
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
	case t.kind == tkIdent && !t.isKw(kwSelect) && !t.isKw(kwWith) && p.startsQuery(1):
		optTok = p.next()
	}
	if optTok != nil {
		switch {
		case optTok.isKw(kwPhysical):
			stmt.Option = "PHYSICAL"
		case optTok.isKw(kwLogical):
			stmt.Option = "LOGICAL"
		case optTok.isKw(kwAnalyze):
			stmt.Option = "ANALYZE"
		default:
			return nil, p.errCode(optTok, errcode.InvalidInput,
				"unsupported EXPLAIN option %q (want PHYSICAL, LOGICAL or ANALYZE)", p.src[optTok.off:optTok.end])
		}
	}
	if !p.startsQuery(0) {
		if t := p.peek(); t.kind == tkIdent && (t.isKw(kwInsert) || t.isKw(kwUpdate) || t.isKw(kwDelete)) {
			return nil, p.errCode(t, errcode.Unsupported, "EXPLAIN supports only SELECT")
		}
		return nil, p.errExpected("SELECT")
	}
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	stmt.Query = q
	return stmt, nil
}

func (p *parser) parseShow() (ast.Statement, error) {
	start := p.next()
	if stmt, ok, err := p.parseShowAuth(start); ok {
		return stmt, err
	}
	stmt := &ast.Show{At: start.at()}
	t := p.peek()
	switch {
	case t.isKw(kwTables):
		p.next()
		stmt.What = "TABLES"
		return stmt, nil
	case t.isKw(kwDatabases):
		p.next()
		stmt.What = "DATABASES"
		return stmt, nil
	case t.isKw(kwDatabase):
		p.next()
		stmt.What = "DATABASE"
		return stmt, nil
	case t.isKw(kwColumns) || t.isKw(kwFields):
		stmt.What = "COLUMNS"
	case t.isKw(kwIndex) || t.isKw(kwIndexes) || t.isKw(kwKeys):
		stmt.What = "INDEXES"
	case t.isWord("queries"):
		p.next()
		stmt.What = "QUERIES"
		return stmt, nil
	case t.isWord("sequences"):
		p.next()
		stmt.What = "SEQUENCES"
		return stmt, nil
	case t.isWord("jobs"):
		p.next()
		return &ast.ShowJobs{At: stmt.At}, nil
	case t.isWord("job"):
		p.next()
		id, err := p.parseJobID()
		if err != nil {
			return nil, err
		}
		return &ast.ShowJobs{At: stmt.At, ID: id}, nil
	case t.isKw(kwCreate):
		p.next()
		if _, err := p.expectKw(kwTable); err != nil {
			return nil, err
		}
		name, err := p.ident("table name")
		if err != nil {
			return nil, err
		}
		stmt.What, stmt.Table = "CREATE TABLE", name
		return stmt, nil
	default:
		return p.parseShowVar(start)
	}
	p.next()
	if !p.acceptKw(kwFrom) && !p.acceptKw(kwIn) {
		return nil, p.errExpected("FROM")
	}
	name, err := p.ident("table name")
	if err != nil {
		return nil, err
	}
	stmt.Table = name
	return stmt, nil
}

// parseCancelQuery parses CANCEL QUERY id, id a string literal or a
// parameter. CANCEL and QUERY are matched as words, not keywords, so they
// stay usable as identifiers everywhere else.
func (p *parser) parseCancelQuery() (ast.Statement, error) {
	start := p.next()
	if !p.peek().isWord("query") {
		return nil, p.errExpected("QUERY")
	}
	p.next()
	t := p.peek()
	if t.kind != tkString && t.kind != tkParam {
		return nil, p.errExpected("a query id (a string such as '1-42', or a parameter)")
	}
	id, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	return &ast.CancelQuery{At: start.at(), ID: id}, nil
}

// parseControlJob parses PAUSE JOB id, RESUME JOB id and CANCEL JOB id
// (the words are not keywords).
func (p *parser) parseControlJob() (ast.Statement, error) {
	start := p.next()
	action := "CANCEL"
	switch {
	case start.isWord("pause"):
		action = "PAUSE"
	case start.isWord("resume"):
		action = "RESUME"
	}
	p.next() // JOB
	id, err := p.parseJobID()
	if err != nil {
		return nil, err
	}
	return &ast.ControlJob{At: start.at(), Action: action, ID: id}, nil
}

// parseJobID parses a job id: an integer literal or a parameter.
func (p *parser) parseJobID() (ast.Expr, error) {
	t := p.peek()
	if t.kind != tkInt && t.kind != tkParam {
		return nil, p.errExpected("a job id (an integer, or a parameter)")
	}
	return p.parsePrimary()
}

// parseSetList parses SET col = expr [, ...] (UPDATE, ON CONFLICT DO UPDATE).
func (p *parser) parseSetList() ([]ast.Assignment, error) {
	if _, err := p.expectKw(kwSet); err != nil {
		return nil, err
	}
	var set []ast.Assignment
	for {
		col, err := p.ident("column name")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkEq, "'='"); err != nil {
			return nil, err
		}
		val, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		set = append(set, ast.Assignment{Column: col, Value: val})
		if !p.accept(tkComma) {
			return set, nil
		}
	}
}
