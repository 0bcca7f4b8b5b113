// Package ast is the syntax tree produced by sql/parser and consumed by the
// planner. Every node records the position where it starts. Identifiers are
// already folded to lower case by the parser.
//
// Format(node) renders a node back to SQL text that re-parses to an equal
// tree (the fuzz round-trip property), and is used for result column names
// of expressions ("the expression text").
package ast

import "github.com/camusdb/camusdb-go/internal/sql/types"

// Pos is a 1-based line and column in the statement text.
type Pos struct{ Line, Col int }

// Node is any syntax tree node.
type Node interface{ Position() Pos }

// Statement is a top-level statement.
type Statement interface {
	Node
	stmt()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// ---------------------------------------------------------------- expressions

// Literal is a constant: NULL, INT64, FLOAT64, STRING or BOOL.
type Literal struct {
	At    Pos
	Value types.Value
}

// ColumnRef is [table.]column.
type ColumnRef struct {
	At     Pos
	Table  string // "" when unqualified
	Column string
}

// Param is @name (HTTP) or $n (pgwire; Name is "1", "2", ...).
type Param struct {
	At   Pos
	Name string // without '@' or '$'
}

// UnaryExpr is -x, +x or NOT x.
type UnaryExpr struct {
	At Pos
	Op string // "-", "+", "NOT"
	X  Expr
}

// BinaryExpr is an arithmetic, comparison, logical or concatenation operator.
// Op is one of: + - * / % || = != < > <= >= AND OR
// ("<>" is normalised to "!=").
type BinaryExpr struct {
	At   Pos
	Op   string
	L, R Expr
}

// LikeExpr is x [NOT] LIKE|ILIKE pattern.
type LikeExpr struct {
	At              Pos
	X, Pattern      Expr
	Not             bool
	CaseInsensitive bool // ILIKE
}

// BetweenExpr is x [NOT] BETWEEN lo AND hi.
type BetweenExpr struct {
	At        Pos
	X, Lo, Hi Expr
	Not       bool
}

// IsNullExpr is x IS [NOT] NULL.
type IsNullExpr struct {
	At  Pos
	X   Expr
	Not bool
}

// InExpr is x [NOT] IN (list) or x [NOT] IN (SELECT ...).
type InExpr struct {
	At       Pos
	X        Expr
	List     []Expr  // nil when Subquery is set
	Subquery *Select // nil for a list
	Not      bool
}

// ExistsExpr is EXISTS (SELECT ...).
type ExistsExpr struct {
	At       Pos
	Subquery *Select
}

// SubqueryExpr is a scalar subquery (SELECT ...).
type SubqueryExpr struct {
	At       Pos
	Subquery *Select
}

// FuncCall is name(args), including aggregates. Name is lower case.
// COUNT(*) has Star=true and no Args.
type FuncCall struct {
	At       Pos
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool // COUNT(DISTINCT x)
}

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
type CaseExpr struct {
	At      Pos
	Operand Expr // nil for the searched form
	Whens   []When
	Else    Expr // nil when absent
}

// When is one WHEN cond THEN result arm.
type When struct {
	Cond, Result Expr
}

// CastExpr is CAST(x AS type) or x::type.
type CastExpr struct {
	At   Pos
	X    Expr
	Type types.T
}

// DefaultExpr is the DEFAULT keyword used as an INSERT value.
type DefaultExpr struct{ At Pos }

func (n *Literal) Position() Pos      { return n.At }
func (n *ColumnRef) Position() Pos    { return n.At }
func (n *Param) Position() Pos        { return n.At }
func (n *UnaryExpr) Position() Pos    { return n.At }
func (n *BinaryExpr) Position() Pos   { return n.At }
func (n *LikeExpr) Position() Pos     { return n.At }
func (n *BetweenExpr) Position() Pos  { return n.At }
func (n *IsNullExpr) Position() Pos   { return n.At }
func (n *InExpr) Position() Pos       { return n.At }
func (n *ExistsExpr) Position() Pos   { return n.At }
func (n *SubqueryExpr) Position() Pos { return n.At }
func (n *FuncCall) Position() Pos     { return n.At }
func (n *CaseExpr) Position() Pos     { return n.At }
func (n *CastExpr) Position() Pos     { return n.At }
func (n *DefaultExpr) Position() Pos  { return n.At }

func (*Literal) expr()      {}
func (*ColumnRef) expr()    {}
func (*Param) expr()        {}
func (*UnaryExpr) expr()    {}
func (*BinaryExpr) expr()   {}
func (*LikeExpr) expr()     {}
func (*BetweenExpr) expr()  {}
func (*IsNullExpr) expr()   {}
func (*InExpr) expr()       {}
func (*ExistsExpr) expr()   {}
func (*SubqueryExpr) expr() {}
func (*FuncCall) expr()     {}
func (*CaseExpr) expr()     {}
func (*CastExpr) expr()     {}
func (*DefaultExpr) expr()  {}

// ---------------------------------------------------------------- queries

// Select is a query: a simple SELECT, or a set operation (SetOp != "")
// combining Left and Right, optionally with WITH, ORDER BY, LIMIT and OFFSET
// applying to the whole result.
type Select struct {
	At   Pos
	With []CTE

	// Simple select (SetOp == ""):
	Distinct bool
	Items    []SelectItem
	From     []TableExpr // comma-separated sources; empty for SELECT without FROM
	Where    Expr
	GroupBy  []Expr
	Having   Expr

	// Set operation: SetOp is "UNION", "UNION ALL", "INTERSECT" or "EXCEPT".
	SetOp       string
	Left, Right *Select

	OrderBy []OrderItem
	Limit   Expr // nil when absent
	Offset  Expr // nil when absent
}

// CTE is one WITH name AS (SELECT ...).
type CTE struct {
	Name  string
	Query *Select
}

// SelectItem is expr [AS alias], * or table.*.
type SelectItem struct {
	Expr      Expr   // nil for * and table.*
	Alias     string // "" when absent
	Star      bool   // * or table.*
	StarTable string // the table of table.*
}

// OrderItem is expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	Expr Expr
	Desc bool
	// Nulls is "" (default: first ascending, last descending), "FIRST" or "LAST".
	Nulls string
}

// TableExpr is a FROM source.
type TableExpr interface {
	Node
	tableExpr()
}

// TableName is a table reference with optional alias and index hint
// (@{FORCE_INDEX=name}).
type TableName struct {
	At         Pos
	Name       string
	Alias      string
	ForceIndex string
}

// DerivedTable is (SELECT ...) alias.
type DerivedTable struct {
	At       Pos
	Subquery *Select
	Alias    string
}

// Join is Left [INNER|LEFT] JOIN Right ON cond.
type Join struct {
	At          Pos
	Kind        string // "INNER" or "LEFT"
	Left, Right TableExpr
	On          Expr
	// Using is JOIN ... USING (cols) (On is then nil): each column equal
	// on both sides, shown once.
	Using []string
}

func (n *TableName) Position() Pos    { return n.At }
func (n *DerivedTable) Position() Pos { return n.At }
func (n *Join) Position() Pos         { return n.At }
func (*TableName) tableExpr()         {}
func (*DerivedTable) tableExpr()      {}
func (*Join) tableExpr()              {}

// ---------------------------------------------------------------- statements

// ColumnDef is one column in CREATE TABLE / ADD COLUMN.
type ColumnDef struct {
	At         Pos
	Name       string
	Type       types.T
	TypeText   string // the type as written, e.g. "VARCHAR(20)", for messages
	NotNull    bool   // NOT NULL given
	Null       bool   // NULL given explicitly
	Default    Expr   // nil when absent
	PrimaryKey bool   // inline PRIMARY KEY
	Unique     bool   // inline UNIQUE
	// Serial is set for SERIAL, SMALLSERIAL and BIGSERIAL (TypeText says
	// which; Type is the integer type): the column gets a sequence.
	Serial bool
	// Identity is "ALWAYS" or "BY DEFAULT" for GENERATED ... AS IDENTITY,
	// with the sequence options of IdentityOptions.
	Identity        string
	IdentityOptions []SequenceOption
	// Checks are inline [CONSTRAINT name] CHECK (expr) clauses (table
	// constraints, CREATE TABLE only).
	Checks []CheckDef
}

// IndexColumn is one column of a key, with its direction.
type IndexColumn struct {
	Column string
	Desc   bool
}

// IndexDef is a table-level PRIMARY KEY, UNIQUE or KEY/INDEX clause.
type IndexDef struct {
	At      Pos
	Name    string // "" when not given
	Primary bool
	Unique  bool
	Columns []IndexColumn
}

type CreateDatabase struct {
	At          Pos
	Name        string
	IfNotExists bool
}

type DropDatabase struct {
	At       Pos
	Name     string
	IfExists bool
}

type RenameDatabase struct {
	At       Pos
	Old, New string
}

// CreateTable. A trailing PRIMARY KEY (...) after the closing parenthesis
// is folded into Indexes as a Primary IndexDef.
type CreateTable struct {
	At          Pos
	Name        string
	IfNotExists bool
	Columns     []ColumnDef
	Indexes     []IndexDef
	Checks      []CheckDef
	// AsQuery is CREATE TABLE t [(AsColumns)] AS query [WITH [NO] DATA]:
	// the columns are the query's, the rows its result unless NoData.
	AsQuery   *Select
	AsColumns []string
	NoData    bool
}

type DropTable struct {
	At       Pos
	Names    []string // DROP TABLE a, b drops both or, on an error, neither
	IfExists bool
	// Behavior is "", "CASCADE" or "RESTRICT": nothing depends on a table
	// (no views, no foreign keys), so both mean the same.
	Behavior string
}

// AlterTable holds exactly one action.
type AlterTable struct {
	At    Pos
	Table string
	// Action is one of: "ADD COLUMN", "DROP COLUMN", "RENAME TO",
	// "RENAME COLUMN", "ADD PRIMARY KEY", "DROP PRIMARY KEY", "ADD INDEX",
	// "DROP INDEX", "ADD CHECK", "DROP CONSTRAINT", and for ALTER [COLUMN]
	// c: "SET DEFAULT", "DROP DEFAULT", "SET NOT NULL", "DROP NOT NULL",
	// "ALTER TYPE".
	Action  string
	Column  *ColumnDef // ADD COLUMN; ALTER TYPE (Name, Type, TypeText)
	Name    string     // DROP COLUMN / DROP INDEX / DROP CONSTRAINT target; RENAME COLUMN old name; ALTER COLUMN's column
	Default Expr       // SET DEFAULT
	NewName string     // RENAME TO / RENAME COLUMN
	Index   *IndexDef  // ADD PRIMARY KEY / ADD [UNIQUE] INDEX
	Check   *CheckDef  // ADD CHECK
}

// CheckDef is a CHECK constraint: [CONSTRAINT name] CHECK (expr).
type CheckDef struct {
	At   Pos
	Name string // "" when not named
	Expr Expr
}

// CreateIndex is CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON t (cols).
type CreateIndex struct {
	At          Pos
	Table       string
	Index       IndexDef
	IfNotExists bool
}

// DropIndex is DROP INDEX [IF EXISTS] name ON t.
type DropIndex struct {
	At       Pos
	Table    string
	Name     string
	IfExists bool
}

// Insert is INSERT INTO t [(cols)] VALUES ... | SELECT ....
type Insert struct {
	At      Pos
	Table   string
	Columns []string // nil when absent
	Rows    [][]Expr // VALUES rows; nil when Select is set
	Select  *Select
	// Overriding is "SYSTEM" or "USER" for OVERRIDING ... VALUE, "" else.
	Overriding string
	// OnConflict is ON CONFLICT ... (nil when absent).
	OnConflict *OnConflict
	// Returning is RETURNING items (nil when absent): evaluated on each
	// written row, they make the statement return rows.
	Returning []SelectItem
}

// Assignment is col = expr in UPDATE.
type Assignment struct {
	Column string
	Value  Expr
}

type Update struct {
	At    Pos
	Table string
	Alias string
	Set   []Assignment
	Where Expr // required by the grammar's user; nil when absent (planner rejects)
	// Returning items are evaluated on each row's new values.
	Returning []SelectItem
}

type Delete struct {
	At    Pos
	Table string
	Alias string
	Where Expr // nil when absent (planner rejects)
	// Returning items are evaluated on each deleted row.
	Returning []SelectItem
}

// SelectStmt wraps a query as a statement.
type SelectStmt struct {
	Select *Select
	// Locking is FOR UPDATE / FOR SHARE (nil when absent).
	Locking *Locking
}

// Locking is a row-locking clause: FOR {UPDATE | NO KEY UPDATE | SHARE |
// KEY SHARE} [OF t, ...]. Strength is upper case.
type Locking struct {
	Strength string
	Of       []string
}

// Explain is EXPLAIN [(PHYSICAL|LOGICAL|ANALYZE)] SELECT ....
type Explain struct {
	At     Pos
	Option string // "", "PHYSICAL", "LOGICAL", "ANALYZE"
	Query  *Select
}

// Begin, Commit, Rollback are transaction control.
type Begin struct{ At Pos }
type Commit struct{ At Pos }
type Rollback struct{ At Pos }

// Use is USE db.
type Use struct {
	At   Pos
	Name string
}

// Show is a SHOW / DESCRIBE statement.
// What is one of: "TABLES", "DATABASES", "DATABASE", "COLUMNS" (also
// DESCRIBE/DESC), "INDEXES", "CREATE TABLE", "QUERIES" (the running
// statements of the node, answered by the session layer).
type Show struct {
	At    Pos
	What  string
	Table string // for COLUMNS, INDEXES, CREATE TABLE
}

// CancelQuery is CANCEL QUERY id: it cancels a running statement listed by
// SHOW QUERIES. ID is a string literal or a parameter.
type CancelQuery struct {
	At Pos
	ID Expr
}

func (n *CancelQuery) Position() Pos { return n.At }
func (*CancelQuery) stmt()           {}

// ShowJobs is SHOW JOBS (every job, newest first) or SHOW JOB id.
type ShowJobs struct {
	At Pos
	ID Expr // nil: all jobs
}

// ControlJob is PAUSE JOB id, RESUME JOB id or CANCEL JOB id.
type ControlJob struct {
	At     Pos
	Action string // "PAUSE", "RESUME", "CANCEL"
	ID     Expr
}

func (n *ShowJobs) Position() Pos       { return n.At }
func (*ShowJobs) stmt()                 {}
func (n *ControlJob) Position() Pos     { return n.At }
func (*ControlJob) stmt()               {}
func (n *CreateDatabase) Position() Pos { return n.At }
func (n *DropDatabase) Position() Pos   { return n.At }
func (n *RenameDatabase) Position() Pos { return n.At }
func (n *CreateTable) Position() Pos    { return n.At }
func (n *DropTable) Position() Pos      { return n.At }
func (n *AlterTable) Position() Pos     { return n.At }
func (n *CreateIndex) Position() Pos    { return n.At }
func (n *DropIndex) Position() Pos      { return n.At }
func (n *Insert) Position() Pos         { return n.At }
func (n *Update) Position() Pos         { return n.At }
func (n *Delete) Position() Pos         { return n.At }
func (n *SelectStmt) Position() Pos     { return n.Select.At }
func (n *Explain) Position() Pos        { return n.At }
func (n *Begin) Position() Pos          { return n.At }
func (n *Commit) Position() Pos         { return n.At }
func (n *Rollback) Position() Pos       { return n.At }
func (n *Use) Position() Pos            { return n.At }
func (n *Show) Position() Pos           { return n.At }
func (n *Select) Position() Pos         { return n.At }

func (*CreateDatabase) stmt() {}
func (*DropDatabase) stmt()   {}
func (*RenameDatabase) stmt() {}
func (*CreateTable) stmt()    {}
func (*DropTable) stmt()      {}
func (*AlterTable) stmt()     {}
func (*CreateIndex) stmt()    {}
func (*DropIndex) stmt()      {}
func (*Insert) stmt()         {}
func (*Update) stmt()         {}
func (*Delete) stmt()         {}
func (*SelectStmt) stmt()     {}
func (*Explain) stmt()        {}
func (*Begin) stmt()          {}
func (*Commit) stmt()         {}
func (*Rollback) stmt()       {}
func (*Use) stmt()            {}
func (*Show) stmt()           {}
