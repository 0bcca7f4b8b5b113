package pgcatalog

import (
	"fmt"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// pgType is a PostgreSQL built-in type as pg_type and format_type show it.
type pgType struct {
	oid      int64
	name     string // typname
	display  string // format_type / information_schema data_type
	length   int64  // typlen
	category string
	byVal    bool
	collated bool
}

// builtinTypes are PostgreSQL's own types (facts about PostgreSQL, not a
// mapping of ours): every type a column kind can map to is among them.
var builtinTypes = []pgType{
	{16, "bool", "boolean", 1, "B", true, false},
	{17, "bytea", "bytea", -1, "U", false, false},
	{18, "char", "\"char\"", 1, "Z", true, false},
	{19, "name", "name", 64, "S", false, true},
	{20, "int8", "bigint", 8, "N", true, false},
	{21, "int2", "smallint", 2, "N", true, false},
	{23, "int4", "integer", 4, "N", true, false},
	{25, "text", "text", -1, "S", false, true},
	{26, "oid", "oid", 4, "N", true, false},
	{114, "json", "json", -1, "U", false, false},
	{700, "float4", "real", 4, "N", true, false},
	{701, "float8", "double precision", 8, "N", true, false},
	{1042, "bpchar", "character", -1, "S", false, true},
	{1043, "varchar", "character varying", -1, "S", false, true},
	{1082, "date", "date", 4, "D", true, false},
	{1083, "time", "time without time zone", 8, "D", true, false},
	{1114, "timestamp", "timestamp without time zone", 8, "D", true, false},
	{1184, "timestamptz", "timestamp with time zone", 8, "D", true, false},
	{1186, "interval", "interval", 16, "T", false, false},
	{1700, "numeric", "numeric", -1, "N", false, false},
	{2950, "uuid", "uuid", 16, "U", false, false},
	{3802, "jsonb", "jsonb", -1, "U", false, false},
}

func typeByOID(oid int64) (pgType, bool) {
	for _, t := range builtinTypes {
		if t.oid == oid {
			return t, true
		}
	}
	return pgType{}, false
}

// typeOf is the PostgreSQL type of a column kind through Config.TypeOID
// (text when there is no mapping).
func (c *Catalog) typeOf(k types.Kind) pgType {
	oid := int64(25)
	if c.cfg.TypeOID != nil {
		oid = int64(c.cfg.TypeOID(k))
	}
	if t, ok := typeByOID(oid); ok {
		return t
	}
	return pgType{oid: oid, name: "unknown", display: "unknown", length: -1, category: "X"}
}

// columnType is the PostgreSQL type of a column with its modifiers, and
// the type modifier (atttypmod) PostgreSQL stores for them: SMALLINT and
// INTEGER columns are int2 and int4, VARCHAR(n) and CHAR(n) varchar and
// bpchar with typmod n+4, NUMERIC(p,s) numeric with typmod
// ((p << 16) | s) + 4; -1 when there is none.
func (c *Catalog) columnType(col *catalog.ColumnDesc) (pgType, int64) {
	t := c.typeOf(col.Kind)
	refine := func(oid int64) {
		if r, ok := typeByOID(oid); ok {
			t = r
		}
	}
	typmod := int64(-1)
	switch col.Kind {
	case types.Int64:
		if t.oid == 20 {
			switch col.Width {
			case 16:
				refine(21)
			case 32:
				refine(23)
			}
		}
	case types.String:
		if col.Length > 0 {
			if col.Fixed {
				refine(1042)
			} else {
				refine(1043)
			}
			typmod = int64(col.Length) + 4
		}
	case types.Numeric:
		if col.Precision > 0 {
			typmod = (int64(col.Precision)<<16 | int64(col.Scale)) + 4
		}
	}
	return t, typmod
}

// formatType renders a type with its modifier as format_type does
// ("character varying(20)", "numeric(8,2)").
func formatType(t pgType, typmod int64) string {
	if typmod < 4 {
		return t.display
	}
	switch t.oid {
	case 1042, 1043:
		return fmt.Sprintf("%s(%d)", t.display, typmod-4)
	case 1700:
		m := typmod - 4
		return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff)
	}
	return t.display
}
