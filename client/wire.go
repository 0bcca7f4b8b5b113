package client

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is the type code of a column value (SPEC §3.1).
type Kind uint8

// Kind values, equal to the wire codes.
const (
	KindNull    Kind = 0
	KindOID     Kind = 1
	KindInt64   Kind = 2
	KindString  Kind = 3
	KindBool    Kind = 4
	KindFloat64 Kind = 5
	// KindBytes (BYTEA) and the kinds after it are decoded as their text
	// form (a string): \x hex for BYTEA.
	KindBytes       Kind = 6
	KindDate        Kind = 7  // YYYY-MM-DD
	KindTimestamp   Kind = 8  // YYYY-MM-DD HH:MM:SS[.ffffff]
	KindTimestampTZ Kind = 9  // YYYY-MM-DD HH:MM:SS[.ffffff]+00
	KindInterval    Kind = 10 // 1 year 2 mons 3 days 04:05:06
	KindNumeric     Kind = 11 // exact decimal text: -12.50
	KindUUID        Kind = 12 // 8-4-4-4-12 lower-case hex
	KindJSONB       Kind = 13 // canonical JSON text

	kindMax = KindJSONB
)

// String returns the SQL type name (NULL, OID, INT64, STRING, BOOL, FLOAT64).
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "NULL"
	case KindOID:
		return "OID"
	case KindInt64:
		return "INT64"
	case KindString:
		return "STRING"
	case KindBool:
		return "BOOL"
	case KindFloat64:
		return "FLOAT64"
	case KindBytes:
		return "BYTEA"
	case KindDate:
		return "DATE"
	case KindTimestamp:
		return "TIMESTAMP"
	case KindTimestampTZ:
		return "TIMESTAMPTZ"
	case KindInterval:
		return "INTERVAL"
	case KindNumeric:
		return "NUMERIC"
	case KindUUID:
		return "UUID"
	case KindJSONB:
		return "JSONB"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// UnmarshalJSON accepts a column type either as its wire code (2) or as a
// type name ("INT64", "int64", "id", "NULL", ...); unknown names are an error.
func (k *Kind) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return err
		}
		kind, ok := kindFromName(name)
		if !ok {
			return fmt.Errorf("client: unknown type name %q", name)
		}
		*k = kind
		return nil
	}
	if string(b) == "null" {
		*k = KindNull
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 8)
	if err != nil {
		return fmt.Errorf("client: bad column type %s", b)
	}
	*k = Kind(n)
	return nil
}

func kindFromName(name string) (Kind, bool) {
	switch strings.ToLower(name) {
	case "null", "":
		return KindNull, true
	case "oid", "id", "object_id":
		return KindOID, true
	case "int64", "int", "integer", "bigint", "smallint":
		return KindInt64, true
	case "string", "text", "varchar", "char":
		return KindString, true
	case "bool", "boolean":
		return KindBool, true
	case "float64", "double", "float", "real":
		return KindFloat64, true
	case "bytea":
		return KindBytes, true
	case "date":
		return KindDate, true
	case "timestamp":
		return KindTimestamp, true
	case "timestamptz":
		return KindTimestampTZ, true
	case "interval":
		return KindInterval, true
	case "numeric", "decimal":
		return KindNumeric, true
	case "uuid":
		return KindUUID, true
	case "jsonb", "json":
		return KindJSONB, true
	}
	return KindNull, false
}

// OID is an object id parameter: 24 lower-case hex characters. Plain Go
// strings are sent as STRING values; wrap a string in OID to send an object id.
type OID string

// TypedValue is a parameter of a kind after FLOAT64 (BYTEA...) given in
// that kind's text form, which is also how results carry such values.
type TypedValue struct {
	Kind Kind
	Text string
}

// Typed returns a parameter of kind k written as text (Typed(KindBytes,
// `\x00ff`)).
func Typed(k Kind, text string) TypedValue { return TypedValue{Kind: k, Text: text} }

// Column is one output column of a query.
type Column struct {
	Name string `json:"name"`
	Type Kind   `json:"type"`
}

// Result kinds as the server names them in the "kind" field.
const (
	ResultRows     = "rows"     // SELECT, SHOW, EXPLAIN: Columns and Rows
	ResultAffected = "affected" // INSERT, UPDATE, DELETE: RowsAffected
	ResultDDL      = "ddl"      // DDL and USE: nothing to show
	ResultBegin    = "begin"    // BEGIN: Txn
	ResultCommit   = "commit"
	ResultRollback = "rollback"
)

// Result is the outcome of one statement sent to /execute-sql-query.
//
// Kind is one of the Result* constants; when the server sends no kind it is
// inferred from the shape: Txn set → begin, Columns non-empty → rows, an
// affected-row count → affected, otherwise ddl.
type Result struct {
	Kind    string
	Columns []Column
	// Rows hold one value per column, in column order: nil, int64, float64,
	// string (STRING and OID as hex) or bool.
	Rows            [][]any
	RowsAffected    int64
	HasRowsAffected bool
	Txn             *Txn
	// Database is the current database after the statement when the server
	// reports it (USE changes it); empty otherwise.
	Database string
}

// toResult converts a decoded /execute-sql-query body.
func (r *response) toResult() *Result {
	res := &Result{Kind: r.Kind, Columns: r.Columns, Rows: r.rows, Database: r.DB}
	if r.hasPT && r.hasCounter {
		res.Txn = &Txn{PT: r.txnPT, Counter: r.txnCounter}
	}
	if r.hasAffected {
		res.RowsAffected, res.HasRowsAffected = r.affected, true
	}
	if res.Kind == "" {
		switch {
		case res.Txn != nil:
			res.Kind = ResultBegin
		case len(res.Columns) > 0:
			res.Kind = ResultRows
		case res.HasRowsAffected:
			res.Kind = ResultAffected
		default:
			res.Kind = ResultDDL
		}
	}
	return res
}

// sqlRequest is the body of the SQL endpoints; encoded by appendSQLRequest.
type sqlRequest struct {
	database string
	sql      string
	params   map[string]any
	txn      *Txn
	rowArray bool // send "rowFormat":"array"
}

// appendSQLRequest writes the JSON body by hand: it is on every statement's
// path and reflection-free encoding keeps it to the one buffer allocation.
func appendSQLRequest(buf []byte, r *sqlRequest) ([]byte, error) {
	buf = append(buf, `{"databaseName":`...)
	buf = appendJSONString(buf, r.database)
	buf = append(buf, `,"sql":`...)
	buf = appendJSONString(buf, r.sql)
	if len(r.params) > 0 {
		buf = append(buf, `,"parameters":{`...)
		first := true
		for name, v := range r.params {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendJSONString(buf, name)
			buf = append(buf, ':')
			var err error
			if buf, err = appendColumnValue(buf, v); err != nil {
				return nil, fmt.Errorf("client: parameter %q: %w", name, err)
			}
		}
		buf = append(buf, '}')
	}
	if r.txn != nil {
		buf = appendTxnFields(buf, r.txn)
	}
	if r.rowArray {
		buf = append(buf, `,"rowFormat":"array"`...)
	}
	return append(buf, '}'), nil
}

func appendTxnFields(buf []byte, txn *Txn) []byte {
	buf = append(buf, `,"txnIdPT":`...)
	buf = strconv.AppendInt(buf, txn.PT, 10)
	buf = append(buf, `,"txnIdCounter":`...)
	return strconv.AppendInt(buf, txn.Counter, 10)
}

var errUnsupportedParam = errors.New("unsupported parameter type")

// appendColumnValue encodes a Go value as a SPEC §3.1 column value.
func appendColumnValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, `{"type":0}`...), nil
	case int64:
		return appendLong(buf, x), nil
	case int:
		return appendLong(buf, int64(x)), nil
	case int32:
		return appendLong(buf, int64(x)), nil
	case int16:
		return appendLong(buf, int64(x)), nil
	case int8:
		return appendLong(buf, int64(x)), nil
	case uint8:
		return appendLong(buf, int64(x)), nil
	case uint16:
		return appendLong(buf, int64(x)), nil
	case uint32:
		return appendLong(buf, int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("%d overflows INT64", x)
		}
		return appendLong(buf, int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("%d overflows INT64", x)
		}
		return appendLong(buf, int64(x)), nil
	case float64:
		return appendFloat(buf, x)
	case float32:
		return appendFloat(buf, float64(x))
	case string:
		buf = append(buf, `{"type":3,"strValue":`...)
		return append(appendJSONString(buf, x), '}'), nil
	case bool:
		if x {
			return append(buf, `{"type":4,"boolValue":true}`...), nil
		}
		return append(buf, `{"type":4,"boolValue":false}`...), nil
	case OID:
		if !validOIDHex(string(x)) {
			return nil, fmt.Errorf("OID %q is not 24 lower-case hex characters", string(x))
		}
		buf = append(buf, `{"type":1,"strValue":"`...)
		return append(append(buf, x...), `"}`...), nil
	case []byte:
		if len(x) != 12 {
			return nil, fmt.Errorf("[]byte of length %d is not a 12-byte OID", len(x))
		}
		buf = append(buf, `{"type":1,"strValue":"`...)
		buf = hex.AppendEncode(buf, x)
		return append(buf, `"}`...), nil
	case TypedValue:
		if x.Kind <= KindFloat64 || x.Kind > kindMax {
			return nil, fmt.Errorf("a typed text value cannot be of kind %v", x.Kind)
		}
		buf = append(buf, `{"type":`...)
		buf = strconv.AppendUint(buf, uint64(x.Kind), 10)
		buf = append(buf, `,"strValue":`...)
		return append(appendJSONString(buf, x.Text), '}'), nil
	case time.Time:
		buf = append(buf, `{"type":3,"strValue":"`...)
		buf = x.UTC().AppendFormat(buf, time.RFC3339Nano)
		return append(buf, `"}`...), nil
	}
	return nil, fmt.Errorf("%w %T", errUnsupportedParam, v)
}

func appendLong(buf []byte, n int64) []byte {
	buf = append(buf, `{"type":2,"longValue":`...)
	return append(strconv.AppendInt(buf, n, 10), '}')
}

func appendFloat(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v cannot be sent as JSON", f)
	}
	buf = append(buf, `{"type":5,"floatValue":`...)
	return append(strconv.AppendFloat(buf, f, 'g', -1, 64), '}'), nil
}

func validOIDHex(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// like encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
