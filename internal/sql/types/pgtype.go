package types

import "strconv"

// PGType is how a column type appears to PostgreSQL clients and catalogs:
// the pg_type name and OID, typlen (-1 for variable length) and the name
// format_type prints. It is the one mapping the wire protocol
// (RowDescription, parameter OIDs) and the pg_catalog tables share.
type PGType struct {
	Name   string // pg_type.typname: int8, text, bytea...
	OID    uint32 // pg_type.oid
	Len    int16  // pg_type.typlen
	Format string // format_type(oid, -1): bigint, text, bytea...
}

// PostgreSQL type OIDs of the types CamusDB columns map to.
const (
	PGOIDBool    uint32 = 16
	PGOIDBytea   uint32 = 17
	PGOIDInt8    uint32 = 20
	PGOIDInt2    uint32 = 21
	PGOIDInt4    uint32 = 23
	PGOIDText    uint32 = 25
	PGOIDFloat8  uint32 = 701
	PGOIDBPChar  uint32 = 1042
	PGOIDVarchar uint32 = 1043
	PGOIDDate    uint32 = 1082
	PGOIDTS      uint32 = 1114
	PGOIDTSTZ    uint32 = 1184
	PGOIDIntv    uint32 = 1186
	PGOIDNumeric uint32 = 1700
	PGOIDUUID    uint32 = 2950
	PGOIDJSONB   uint32 = 3802
)

var (
	pgBool    = PGType{"bool", PGOIDBool, 1, "boolean"}
	pgBytea   = PGType{"bytea", PGOIDBytea, -1, "bytea"}
	pgInt8    = PGType{"int8", PGOIDInt8, 8, "bigint"}
	pgInt2    = PGType{"int2", PGOIDInt2, 2, "smallint"}
	pgInt4    = PGType{"int4", PGOIDInt4, 4, "integer"}
	pgText    = PGType{"text", PGOIDText, -1, "text"}
	pgFloat8  = PGType{"float8", PGOIDFloat8, 8, "double precision"}
	pgBPChar  = PGType{"bpchar", PGOIDBPChar, -1, "character"}
	pgVarchar = PGType{"varchar", PGOIDVarchar, -1, "character varying"}
	pgDate    = PGType{"date", PGOIDDate, 4, "date"}
	pgTS      = PGType{"timestamp", PGOIDTS, 8, "timestamp without time zone"}
	pgTSTZ    = PGType{"timestamptz", PGOIDTSTZ, 8, "timestamp with time zone"}
	pgIntv    = PGType{"interval", PGOIDIntv, 16, "interval"}
	pgNumeric = PGType{"numeric", PGOIDNumeric, -1, "numeric"}
	pgUUID    = PGType{"uuid", PGOIDUUID, 16, "uuid"}
	pgJSONB   = PGType{"jsonb", PGOIDJSONB, -1, "jsonb"}
)

// PGTypes lists every PostgreSQL type some column type maps to, for
// pg_type.
var PGTypes = []PGType{pgBool, pgBytea, pgInt8, pgInt2, pgInt4, pgText, pgFloat8, pgBPChar, pgVarchar, pgDate, pgTS, pgTSTZ, pgIntv, pgNumeric, pgUUID, pgJSONB}

// PG returns the PostgreSQL type of t. OID columns are text (24 hex
// characters); NULL (unknown) is text.
func (t T) PG() PGType {
	switch t.Kind {
	case Int64:
		switch t.Width {
		case 16:
			return pgInt2
		case 32:
			return pgInt4
		}
		return pgInt8
	case Float64:
		return pgFloat8
	case Bool:
		return pgBool
	case Bytes:
		return pgBytea
	case Date:
		return pgDate
	case Timestamp:
		return pgTS
	case TimestampTZ:
		return pgTSTZ
	case Interval:
		return pgIntv
	case Numeric:
		return pgNumeric
	case UUID:
		return pgUUID
	case JSONB:
		return pgJSONB
	case String:
		if t.Length > 0 {
			if t.Fixed {
				return pgBPChar
			}
			return pgVarchar
		}
	}
	return pgText
}

// PGTypmod returns pg_attribute.atttypmod for t: n+4 for VARCHAR(n) and
// CHAR(n), (p<<16 | s)+4 for NUMERIC(p,s), -1 otherwise.
func (t T) PGTypmod() int32 {
	if t.Kind == String && t.Length > 0 {
		return int32(t.Length) + 4
	}
	if t.Kind == Numeric && t.Precision > 0 {
		return int32(t.Precision)<<16 | int32(t.Scale) + 4
	}
	return -1
}

// PGFormat returns what PostgreSQL's format_type(atttypid, atttypmod)
// prints for t: "character varying(20)", "integer", "text"...
func (t T) PGFormat() string {
	pg := t.PG()
	if t.Kind == String && t.Length > 0 {
		return pg.Format + "(" + strconv.FormatUint(uint64(t.Length), 10) + ")"
	}
	if t.Kind == Numeric && t.Precision > 0 {
		return pg.Format + "(" + strconv.Itoa(int(t.Precision)) + "," + strconv.Itoa(int(t.Scale)) + ")"
	}
	return pg.Format
}

// PGTypeByOID finds a type of PGTypes by its OID.
func PGTypeByOID(oid uint32) (PGType, bool) {
	for _, t := range PGTypes {
		if t.OID == oid {
			return t, true
		}
	}
	return PGType{}, false
}

// FormatType is PostgreSQL's format_type(oid, typmod) for the types of
// PGTypes: the format name, with "(n)" for a character type whose typmod
// is n+4 and "(p,s)" for a numeric whose typmod is (p<<16 | s)+4. ok is
// false for an OID not in PGTypes (format_type prints "???" then).
func FormatType(oid uint32, typmod int32) (string, bool) {
	t, ok := PGTypeByOID(oid)
	if !ok {
		return "???", false
	}
	if typmod < 4 {
		return t.Format, true
	}
	switch oid {
	case PGOIDVarchar, PGOIDBPChar:
		return t.Format + "(" + strconv.Itoa(int(typmod-4)) + ")", true
	case PGOIDNumeric:
		m := typmod - 4
		return t.Format + "(" + strconv.Itoa(int(m>>16&0xffff)) + "," + strconv.Itoa(int(m&0xffff)) + ")", true
	}
	return t.Format, true
}
