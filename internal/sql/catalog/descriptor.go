package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// PrimaryIndexName is the name SHOW INDEXES gives the primary key.
const PrimaryIndexName = "~pk"

// PrimaryIndexID is the id of the primary index. Its entries are the rows
// themselves (stored under kvpb.RowPrefix), so no key uses it as an index id;
// secondary indexes are numbered from PrimaryIndexID+1.
const PrimaryIndexID uint32 = 1

// HiddenRowIDColumn names the OID column added to tables declared without
// a primary key. The '~' keeps it apart from user identifiers, which may
// not begin with '~' (ValidateName).
const HiddenRowIDColumn = "~rowid"

// ReservedDatabase cannot be created or dropped by users.
const ReservedDatabase = "system"

// DatabaseDesc is a database in the registry. ID never changes and is never
// reused, so data keys (which carry the id) survive renames.
type DatabaseDesc struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// ColumnDesc is one column of a table.
type ColumnDesc struct {
	// ID is stable for the life of the column (index columns refer to it);
	// it is not the column's position in the row.
	ID   uint32     `json:"id"`
	Name string     `json:"name"`
	Kind types.Kind `json:"kind"`
	// Mod is the type's modifiers (INTEGER width, VARCHAR(n) length);
	// its fields are stored inline and omitted when zero, so descriptors
	// written before modifiers existed read as plain kinds.
	types.Mod
	NotNull bool `json:"notNull,omitempty"`
	// Default is the DEFAULT expression as SQL text, "" when none.
	Default string `json:"default,omitempty"`
	// Hidden columns (the implicit row id) never appear in '*' or SHOW COLUMNS.
	Hidden bool `json:"hidden,omitempty"`
	// Comment is set by COMMENT ON COLUMN ("" when none).
	Comment string `json:"comment,omitempty"`
	// Identity is "ALWAYS" or "BY DEFAULT" for a GENERATED ... AS IDENTITY
	// column (its Default is nextval of the sequence it owns), "" else.
	Identity string `json:"identity,omitempty"`
	// State is the column's schema-change state: Public, or WriteOnly /
	// DeleteOnly while an ADD or DROP COLUMN job runs (docs/schema.md).
	// Only public columns are seen by readers (names, '*', catalogs).
	State ColumnState `json:"state,omitempty"`
	// Adding is set while an ADD COLUMN job adds it (as opposed to a DROP
	// COLUMN removing it): a write-only adding column is filled with its
	// default by every INSERT and UPDATE and its NOT NULL is enforced.
	Adding bool `json:"adding,omitempty"`
}

// ColumnState is the schema-change state of a column (SPEC §6.1).
type ColumnState uint8

const (
	// ColumnPublic columns are read and written.
	ColumnPublic ColumnState = iota
	// ColumnWriteOnly columns are written (they are in row payloads) but
	// no reader sees them.
	ColumnWriteOnly
	// ColumnDeleteOnly columns are in no new payload and seen by no reader.
	ColumnDeleteOnly
)

func (s ColumnState) String() string {
	switch s {
	case ColumnPublic:
		return "PUBLIC"
	case ColumnWriteOnly:
		return "WRITE_ONLY"
	case ColumnDeleteOnly:
		return "DELETE_ONLY"
	}
	return fmt.Sprintf("ColumnState(%d)", uint8(s))
}

// Public reports whether readers see the column.
func (c *ColumnDesc) Public() bool { return c.State == ColumnPublic }

// InPayload reports whether new row payloads hold the column's value.
func (c *ColumnDesc) InPayload() bool { return c.State != ColumnDeleteOnly }

// Enforced reports whether writers check the column's NOT NULL: public
// columns and write-only columns being added (a column being dropped is
// written but cannot be set by anyone).
func (c *ColumnDesc) Enforced() bool {
	return c.State == ColumnPublic || (c.State == ColumnWriteOnly && c.Adding)
}

// Type returns the column's type: its Kind and modifiers.
func (c *ColumnDesc) Type() types.T { return types.T{Kind: c.Kind, Mod: c.Mod} }

// IndexColumn is one key column of an index, by column id.
type IndexColumn struct {
	ColumnID uint32 `json:"columnId"`
	Desc     bool   `json:"desc,omitempty"`
}

// IndexState is the schema-change state of an index (SPEC §6.1). Standalone
// DDL goes straight to Public; the other states exist for staged changes.
type IndexState uint8

const (
	// IndexPublic indexes are maintained and readable.
	IndexPublic IndexState = iota
	// IndexWriteOnly indexes are maintained but not used for reads.
	IndexWriteOnly
	// IndexDeleteOnly indexes only receive deletes.
	IndexDeleteOnly
)

func (s IndexState) String() string {
	switch s {
	case IndexPublic:
		return "PUBLIC"
	case IndexWriteOnly:
		return "WRITE_ONLY"
	case IndexDeleteOnly:
		return "DELETE_ONLY"
	}
	return fmt.Sprintf("IndexState(%d)", uint8(s))
}

// IndexDesc is an index of a table. The primary key is an IndexDesc too
// (ID PrimaryIndexID, Name PrimaryIndexName, Unique).
type IndexDesc struct {
	ID      uint32        `json:"id"`
	Name    string        `json:"name"`
	Unique  bool          `json:"unique,omitempty"`
	Columns []IndexColumn `json:"columns"`
	State   IndexState    `json:"state,omitempty"`
}

// TableDesc is a table's schema. Columns are in schema order: the order of
// values in a row payload and of '*'.
type TableDesc struct {
	ID      uint32 `json:"id"`
	DBID    uint32 `json:"dbId"`
	Name    string `json:"name"`
	Version uint32 `json:"version"`

	Columns    []ColumnDesc `json:"columns"`
	PrimaryKey IndexDesc    `json:"primaryKey"`
	// Indexes are the secondary indexes, in creation order.
	Indexes []IndexDesc `json:"indexes,omitempty"`
	// HiddenRowID is set when the table was declared without a primary key:
	// the key is then the hidden OID column HiddenRowIDColumn.
	HiddenRowID bool `json:"hiddenRowId,omitempty"`

	NextColumnID uint32 `json:"nextColumnId"`
	NextIndexID  uint32 `json:"nextIndexId"`
	// DataID is the id the table's rows and index entries are keyed
	// under (RowPrefix, IndexPrefix) when it is not ID: TRUNCATE gives the
	// table a fresh one from the table id counter, so the new rows start
	// in empty spans at once while a background job clears the old ones
	// (NewTableData), and so does a primary key change, which writes every
	// row and index entry anew (NextDataID). 0: ID.
	DataID uint32 `json:"dataId,omitempty"`

	// SchemaVersion is the database schema version (SchemaVersion) of the
	// DDL that last changed this table.
	SchemaVersion uint64 `json:"schemaVersion,omitempty"`
	// Layouts is the row layout history, oldest first: the column list of
	// every table version at which it changed. A row payload written at
	// table version v holds the values of the columns of the last layout
	// whose Version <= v, in that order, so rows written before an ADD or
	// DROP COLUMN decode without being rewritten. The last layout is
	// always the current Columns. UpdateTable maintains it.
	Layouts []RowLayout `json:"layouts,omitempty"`
	// SchemaJob is the id of the schema-change job running on the table
	// (0: none). Other DDL on the table is refused meanwhile (CADB0032);
	// the job changes it through UpdateTableAsJob.
	SchemaJob uint64 `json:"schemaJob,omitempty"`
	// Checks are the CHECK constraints, in creation order.
	Checks []CheckDesc `json:"checks,omitempty"`
	// Comment is set by COMMENT ON TABLE ("" when none).
	Comment string `json:"comment,omitempty"`
	// View is the query of a view (SQL text in the default dialect); ""
	// for a table. A view has its query's columns and no rows: reading it
	// plans the query, and it cannot be written or altered.
	View string `json:"view,omitempty"`
	// Sequence is set for a sequence (sequence.go): it has the columns
	// SequenceColumns, no rows, and its value in its own KV entry.
	Sequence *SequenceDesc `json:"sequence,omitempty"`
}

// CheckDesc is a CHECK constraint: every row written must not make Expr
// false. State is IndexPublic, or IndexWriteOnly while an ADD CONSTRAINT
// job validates the existing rows (writers enforce it already; SHOW CREATE
// TABLE does not show it yet).
type CheckDesc struct {
	Name  string     `json:"name"`
	Expr  string     `json:"expr"` // SQL text
	State IndexState `json:"state,omitempty"`
}

// FindCheck returns the check constraint named name, or nil.
func (t *TableDesc) FindCheck(name string) *CheckDesc {
	for i := range t.Checks {
		if t.Checks[i].Name == name {
			return &t.Checks[i]
		}
	}
	return nil
}

// RowLayout is the column list of row payloads written from table version
// Version on (until the next layout).
type RowLayout struct {
	Version   uint32   `json:"version"`
	ColumnIDs []uint32 `json:"columnIds"`
}

// ColumnOrdinal returns the position of the column named name, or -1.
func (t *TableDesc) ColumnOrdinal(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// ColumnOrdinalByID returns the position of the column with id, or -1.
func (t *TableDesc) ColumnOrdinalByID(id uint32) int {
	for i := range t.Columns {
		if t.Columns[i].ID == id {
			return i
		}
	}
	return -1
}

// FindIndex returns the index named name (the primary key answers to
// PrimaryIndexName), or nil.
func (t *TableDesc) FindIndex(name string) *IndexDesc {
	if name == PrimaryIndexName {
		return &t.PrimaryKey
	}
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i]
		}
	}
	return nil
}

// IndexOrdinals returns the column positions of idx's key columns.
func (t *TableDesc) IndexOrdinals(idx *IndexDesc) []int {
	out := make([]int, len(idx.Columns))
	for i, c := range idx.Columns {
		out[i] = t.ColumnOrdinalByID(c.ColumnID)
	}
	return out
}

// IndexDirs returns the DESC flags of idx's key columns.
func IndexDirs(idx *IndexDesc) []bool {
	out := make([]bool, len(idx.Columns))
	for i, c := range idx.Columns {
		out[i] = c.Desc
	}
	return out
}

// VisibleColumns returns the positions of the non-hidden public columns.
func (t *TableDesc) VisibleColumns() []int {
	out := make([]int, 0, len(t.Columns))
	for i := range t.Columns {
		if !t.Columns[i].Hidden && t.Columns[i].Public() {
			out = append(out, i)
		}
	}
	return out
}

// HasAddingColumn reports whether an ADD COLUMN job is adding a column
// (its values are back-filled into rows that lack them).
func (t *TableDesc) HasAddingColumn() bool {
	for i := range t.Columns {
		if t.Columns[i].Adding {
			return true
		}
	}
	return false
}

// IndexColumnsText renders idx's columns as "a, b DESC" (SHOW INDEXES).
func (t *TableDesc) IndexColumnsText(idx *IndexDesc) string {
	var b strings.Builder
	for i, c := range idx.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if o := t.ColumnOrdinalByID(c.ColumnID); o >= 0 {
			b.WriteString(t.Columns[o].Name)
		} else {
			fmt.Fprintf(&b, "#%d", c.ColumnID)
		}
		if c.Desc {
			b.WriteString(" DESC")
		}
	}
	return b.String()
}

// Validate checks the descriptor's internal consistency: unique non-empty
// column and index names, index columns that exist, a non-empty primary key
// on NOT NULL-able columns. Errors carry CADB codes.
func (t *TableDesc) Validate() error {
	if err := ValidateName(t.Name); err != nil {
		return err
	}
	if len(t.Columns) == 0 {
		return errcode.New(errcode.InvalidInput, "table %q must have at least one column", t.Name)
	}
	seen := make(map[string]bool, len(t.Columns))
	ids := make(map[uint32]bool, len(t.Columns))
	visible := 0
	for _, c := range t.Columns {
		if !c.Hidden {
			visible++
			if err := ValidateName(c.Name); err != nil {
				return err
			}
		}
		if seen[c.Name] {
			return errcode.New(errcode.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		if ids[c.ID] || c.ID == 0 {
			return errcode.New(errcode.Internal, "table %q: bad column id %d", t.Name, c.ID)
		}
		seen[c.Name], ids[c.ID] = true, true
		if !c.Type().Valid() {
			return errcode.New(errcode.UnknownType, "column %q has unknown type %v", c.Name, c.Type())
		}
	}
	if visible == 0 {
		return errcode.New(errcode.InvalidInput, "table %q must have at least one column", t.Name)
	}
	check := func(idx *IndexDesc) error {
		if len(idx.Columns) == 0 {
			return errcode.New(errcode.InvalidInput, "index %q has no columns", idx.Name)
		}
		used := map[uint32]bool{}
		for _, c := range idx.Columns {
			if !ids[c.ColumnID] {
				return errcode.New(errcode.UnknownColumn, "index %q refers to an unknown column", idx.Name)
			}
			if used[c.ColumnID] {
				return errcode.New(errcode.DuplicateColumn, "index %q names a column twice", idx.Name)
			}
			used[c.ColumnID] = true
		}
		return nil
	}
	if err := check(&t.PrimaryKey); err != nil {
		return err
	}
	if err := t.validateLayouts(); err != nil {
		return err
	}
	checks := map[string]bool{}
	for _, c := range t.Checks {
		if c.Name == "" || checks[c.Name] {
			return errcode.New(errcode.InvalidInput, "constraint %q already exists on table %q", c.Name, t.Name)
		}
		checks[c.Name] = true
	}
	names := map[string]bool{PrimaryIndexName: true}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if names[idx.Name] {
			return errcode.New(errcode.InvalidInput, "index %q already exists on table %q", idx.Name, t.Name)
		}
		names[idx.Name] = true
		if idx.ID <= PrimaryIndexID {
			return errcode.New(errcode.Internal, "index %q has reserved id %d", idx.Name, idx.ID)
		}
		if err := check(idx); err != nil {
			return err
		}
	}
	return nil
}

// ValidateName rejects identifiers the catalog cannot store: empty names
// and names starting with '~' (reserved for internal objects).
func ValidateName(name string) error {
	if name == "" {
		return errcode.New(errcode.InvalidInput, "empty identifier")
	}
	if strings.HasPrefix(name, "~") {
		return errcode.New(errcode.InvalidInput, "identifier %q: names starting with '~' are reserved", name)
	}
	return nil
}

// ValidateDatabaseName restricts database names to identifier characters
// (letters, digits and '_', not starting with a digit), so a name is the
// same whether written bare or in backticks and is safe in every client's
// connection string and URL. CADB0400 otherwise.
func ValidateDatabaseName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	for i, r := range name {
		switch {
		case r == '_', unicode.IsLetter(r):
		case unicode.IsDigit(r) && i > 0:
		default:
			return errcode.New(errcode.InvalidInput,
				"database name %q: only letters, digits and '_' are allowed, and it cannot start with a digit", name)
		}
	}
	return nil
}

// Clone returns a deep copy, so a statement can modify a descriptor it read
// without affecting other readers of the same value.
func (t *TableDesc) Clone() *TableDesc {
	c := *t
	c.Columns = append([]ColumnDesc(nil), t.Columns...)
	c.PrimaryKey.Columns = append([]IndexColumn(nil), t.PrimaryKey.Columns...)
	c.Indexes = make([]IndexDesc, len(t.Indexes))
	for i, idx := range t.Indexes {
		idx.Columns = append([]IndexColumn(nil), idx.Columns...)
		c.Indexes[i] = idx
	}
	if t.Sequence != nil {
		seq := *t.Sequence
		c.Sequence = &seq
	}
	c.Checks = slices.Clone(t.Checks)
	c.Layouts = make([]RowLayout, len(t.Layouts))
	for i, l := range t.Layouts {
		l.ColumnIDs = append([]uint32(nil), l.ColumnIDs...)
		c.Layouts[i] = l
	}
	return &c
}

// descriptorFormat is the version byte in front of every encoded descriptor.
const descriptorFormat byte = 1

func encodeDescriptor(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, errcode.Wrap(errcode.Internal, err)
	}
	return append([]byte{descriptorFormat}, body...), nil
}

func decodeDescriptor(b []byte, what string, v any) error {
	if len(b) == 0 || b[0] != descriptorFormat {
		return errcode.New(errcode.Corruption, "%s descriptor has unknown format", what)
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return &errcode.Error{Code: errcode.Corruption, Message: fmt.Sprintf("%s descriptor cannot be decoded: %v", what, err), Cause: err}
	}
	return nil
}
