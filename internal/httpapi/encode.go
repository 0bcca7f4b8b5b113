package httpapi

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// jsonBuf is a hand-rolled JSON writer for the hot path (query results).
// It appends to one byte slice; the caller owns the structure (commas,
// brackets), jsonBuf only guarantees that every scalar it writes is valid
// JSON. Buffers are pooled; release returns them.
type jsonBuf struct {
	b []byte
}

// maxPooledBuf keeps one huge result from pinning its buffer in the pool.
const maxPooledBuf = 1 << 20

var bufPool = sync.Pool{New: func() any { return &jsonBuf{b: make([]byte, 0, 1024)} }}

func getBuf() *jsonBuf { return bufPool.Get().(*jsonBuf) }

func (j *jsonBuf) release() {
	if cap(j.b) > maxPooledBuf {
		return
	}
	j.b = j.b[:0]
	bufPool.Put(j)
}

func (j *jsonBuf) raw(s string) { j.b = append(j.b, s...) }
func (j *jsonBuf) byte(c byte)  { j.b = append(j.b, c) }
func (j *jsonBuf) int(i int64)  { j.b = strconv.AppendInt(j.b, i, 10) }
func (j *jsonBuf) str(s string) { j.b = appendJSONString(j.b, s) }

// key writes "k": (k must not need escaping: callers pass constants).
func (j *jsonBuf) key(k string) {
	j.b = append(j.b, '"')
	j.b = append(j.b, k...)
	j.b = append(j.b, '"', ':')
}

func (j *jsonBuf) bool(v bool) {
	if v {
		j.raw("true")
	} else {
		j.raw("false")
	}
}

// float writes f as a JSON number; non-finite values, which JSON cannot
// express, become the strings "NaN", "Infinity" and "-Infinity".
func (j *jsonBuf) float(f float64) { j.b = appendJSONFloat(j.b, f) }

func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	// Plain notation for ordinary magnitudes, exponent notation for very
	// small or large ones (as encoding/json does), shortest round-trip digits.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// strconv writes e-07; shorten a zero-padded exponent to e-7.
		out := b[start:]
		if n := len(out); n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// needsEscape marks the ASCII bytes that cannot appear raw in a JSON string.
var needsEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped so the output is also valid
// JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is pending, copied verbatim
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !needsEscape[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// value writes one column value with all five fields (SPEC §3.1).
func (j *jsonBuf) value(v types.Value) {
	switch v.Kind {
	case types.Int64:
		j.raw(`{"type":2,"strValue":null,"longValue":`)
		j.int(v.Int)
		j.raw(`,"floatValue":0,"boolValue":false}`)
	case types.String:
		j.raw(`{"type":3,"strValue":`)
		j.str(v.Str)
		j.raw(`,"longValue":0,"floatValue":0,"boolValue":false}`)
	case types.Float64:
		j.raw(`{"type":5,"strValue":null,"longValue":0,"floatValue":`)
		j.float(v.Float)
		j.raw(`,"boolValue":false}`)
	case types.Bool:
		if v.Bool {
			j.raw(`{"type":4,"strValue":null,"longValue":0,"floatValue":0,"boolValue":true}`)
		} else {
			j.raw(`{"type":4,"strValue":null,"longValue":0,"floatValue":0,"boolValue":false}`)
		}
	case types.OID:
		j.raw(`{"type":1,"strValue":"`)
		j.oidHex(v.Str)
		j.raw(`","longValue":0,"floatValue":0,"boolValue":false}`)
	default:
		if types.TextInput(v.Kind) { // BYTEA and later kinds: their text form
			j.raw(`{"type":`)
			j.int(int64(v.Kind))
			j.raw(`,"strValue":`)
			j.str(v.String())
			j.raw(`,"longValue":0,"floatValue":0,"boolValue":false}`)
			return
		}
		// NULL (and any kind this build does not know, as NULL)
		j.raw(`{"type":0,"strValue":null,"longValue":0,"floatValue":0,"boolValue":false}`)
	}
}

// oidHex appends the lower-case hex of raw without allocating.
func (j *jsonBuf) oidHex(raw string) {
	for i := 0; i < len(raw); i++ {
		j.b = append(j.b, hexDigits[raw[i]>>4], hexDigits[raw[i]&0xf])
	}
}

// Row formats of /execute-sql-query.
const (
	rowFormatObject = "object"
	rowFormatArray  = "array"
)

// kindNames are the "kind" field of query responses.
var kindNames = [...]string{
	session.ResultRows:     "rows",
	session.ResultAffected: "affected",
	session.ResultDDL:      "ddl",
	session.ResultBegin:    "begin",
	session.ResultCommit:   "commit",
	session.ResultRollback: "rollback",
}

func kindName(k session.ResultKind) string {
	if int(k) >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// queryResult writes the complete /execute-sql-query response for res:
// {"status":"ok","kind",["rowsAffected"],["txnIdPT","txnIdCounter"],
// ["databaseName"],"total","columns","rows"}.
func (j *jsonBuf) queryResult(res *session.Result, rowFormat string) {
	j.raw(`{"status":"ok","kind":"`)
	j.raw(kindName(res.Kind))
	j.byte('"')
	if res.Kind == session.ResultAffected {
		j.raw(`,"rowsAffected":`)
		j.int(res.RowsAffected)
	}
	if res.Txn != nil {
		j.txnFields(*res.Txn)
	}
	if res.Kind != session.ResultRows && res.Database != "" {
		j.raw(`,"databaseName":`)
		j.str(res.Database)
	}
	j.raw(`,"total":`)
	j.int(int64(len(res.Rows)))
	j.raw(`,"columns":[`)
	for i, col := range res.Columns {
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"name":`)
		j.str(col.Name)
		j.raw(`,"type":`)
		j.int(int64(col.Type))
		j.byte('}')
	}
	j.raw(`],"rows":[`)
	if rowFormat == rowFormatArray {
		j.arrayRows(res.Rows)
	} else {
		j.objectRows(res.Columns, res.Rows)
	}
	j.raw("]}")
}

func (j *jsonBuf) txnFields(h session.TxnHandle) {
	j.raw(`,"txnIdPT":`)
	j.int(h.PT)
	j.raw(`,"txnIdCounter":`)
	j.int(h.Counter)
}

// objectRows writes rows as objects keyed by column name. With several rows
// the escaped keys are built once, into one buffer, so a row costs only its
// values. A row longer than the column list gets positional keys for the
// extra values rather than being cut.
func (j *jsonBuf) objectRows(cols []session.Column, rows [][]types.Value) {
	if len(rows) == 0 {
		return
	}
	var keys []byte
	var endsArr [16]int
	ends := endsArr[:0] // keys[ends[i-1]:ends[i]] is `"name":` of column i
	if len(rows) > 1 {
		for _, col := range cols {
			keys = appendJSONString(keys, col.Name)
			keys = append(keys, ':')
			ends = append(ends, len(keys))
		}
	}
	for r, row := range rows {
		if r > 0 {
			j.byte(',')
		}
		j.byte('{')
		for i, v := range row {
			if i > 0 {
				j.byte(',')
			}
			switch {
			case i < len(ends):
				start := 0
				if i > 0 {
					start = ends[i-1]
				}
				j.b = append(j.b, keys[start:ends[i]]...)
			case i < len(cols):
				j.str(cols[i].Name)
				j.byte(':')
			default:
				j.byte('"')
				j.int(int64(i))
				j.raw(`":`)
			}
			j.value(v)
		}
		j.byte('}')
	}
}

func (j *jsonBuf) arrayRows(rows [][]types.Value) {
	for r, row := range rows {
		if r > 0 {
			j.byte(',')
		}
		j.byte('[')
		for i, v := range row {
			if i > 0 {
				j.byte(',')
			}
			j.value(v)
		}
		j.byte(']')
	}
}
