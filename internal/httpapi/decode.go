package httpapi

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// decodeSQLRequest decodes the body of an /execute-sql-* request.
//
// The shape clients send (the keys spelled as documented, each once, plain
// values) is scanned by hand, without reflection: it is most of the cost
// of a point select's request otherwise. Anything else (another spelling of
// a key, an unknown key, null, a \u escape, invalid UTF-8, a value the
// checks refuse, malformed JSON) goes through encoding/json, which stays
// the reference for what a body means and for every error message: the
// fast path only ever accepts what encoding/json decodes the same way.
func decodeSQLRequest(data []byte, req *sqlRequest) error {
	if scanSQLRequest(data, req) {
		return nil
	}
	*req = sqlRequest{}
	return unmarshalBody(data, req)
}

// Bits of the keys a request gave, to refuse duplicates on the fast path
// (encoding/json lets the last one win, which the slow path reproduces).
const (
	keyDatabase = 1 << iota
	keySQL
	keyParameters
	keyRowFormat
	keyStandardStrings
	keyTimeout
	keyTxnPT
	keyTxnCounter
)

// scanSQLRequest is the fast path of decodeSQLRequest: false when it
// cannot decode data exactly as encoding/json would (req is then garbage).
func scanSQLRequest(data []byte, req *sqlRequest) bool {
	sc := jsonScanner{data: data}
	if !sc.consume('{') {
		return false
	}
	if sc.consume('}') {
		return sc.atEnd()
	}
	var seen uint
	for {
		key, ok := sc.rawKey()
		if !ok || !sc.consume(':') {
			return false
		}
		var bit uint
		switch string(key) {
		case "databaseName":
			bit = keyDatabase
			req.DatabaseName, ok = sc.string()
		case "sql":
			bit = keySQL
			req.SQL, ok = sc.string()
		case "parameters":
			bit = keyParameters
			ok = sc.parameters(req)
		case "rowFormat":
			bit = keyRowFormat
			req.RowFormat, ok = sc.rowFormat()
		case "standardConformingStrings":
			bit = keyStandardStrings
			req.StandardConformingStrings, ok = sc.bool()
		case "timeoutMs":
			bit = keyTimeout
			req.TimeoutMs, ok = sc.int64()
		case "txnIdPT":
			bit = keyTxnPT
			req.TxnIDPT, ok = sc.int64Pointer()
		case "txnIdCounter":
			bit = keyTxnCounter
			req.TxnIDCounter, ok = sc.int64Pointer()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if sc.consume(',') {
			continue
		}
		return sc.consume('}') && sc.atEnd()
	}
}

// parameters scans {"name": value, ...} into req.params (the session form:
// a leading '@' dropped). A name given twice, with or without '@', or an
// empty one, is left to the slow path and its errors.
func (sc *jsonScanner) parameters(req *sqlRequest) bool {
	if !sc.consume('{') {
		return false
	}
	req.paramsScanned = true
	if sc.consume('}') {
		return true
	}
	params := make(map[string]types.Value, 4)
	for {
		key, ok := sc.rawKey()
		if !ok || !sc.consume(':') {
			return false
		}
		bare := bytes.TrimPrefix(key, []byte("@"))
		if len(bare) == 0 {
			return false
		}
		if _, dup := params[string(bare)]; dup {
			return false
		}
		v, ok := sc.value()
		if !ok {
			return false
		}
		params[string(bare)] = v
		if sc.consume(',') {
			continue
		}
		if !sc.consume('}') {
			return false
		}
		req.params = params
		return true
	}
}

// Bits of the fields of a value object.
const (
	fieldType = 1 << iota
	fieldStr
	fieldLong
	fieldFloat
	fieldBool
)

// value scans one column value: the object form or a bare scalar, with
// the checks of wireValue.UnmarshalJSON.
func (sc *jsonScanner) value() (types.Value, bool) {
	switch sc.peek() {
	case '{':
		return sc.valueObject()
	case '"':
		s, ok := sc.string()
		return types.NewString(s), ok
	case 't', 'f':
		b, ok := sc.bool()
		return types.NewBool(b), ok
	case 'n':
		return types.NullValue, sc.literal("null")
	}
	tok, ok := sc.number()
	if !ok {
		return types.Value{}, false
	}
	v, err := scalarNumber(string(tok))
	return v, err == nil
}

func (sc *jsonScanner) valueObject() (types.Value, bool) {
	sc.pos++ // '{'
	var obj wireValueObject
	if !sc.consume('}') {
		var seen uint
		for {
			key, ok := sc.rawKey()
			if !ok || !sc.consume(':') || sc.peek() == 'n' { // null: the slow path
				return types.Value{}, false
			}
			var bit uint
			switch string(key) {
			case "type":
				bit = fieldType
				var n int64
				n, ok = sc.int64()
				t := int(n)
				obj.Type = &t
			case "strValue":
				bit = fieldStr
				var s string
				s, ok = sc.string()
				obj.StrValue = &s
			case "longValue":
				bit = fieldLong
				obj.LongValue, ok = sc.int64Pointer()
			case "floatValue":
				bit = fieldFloat
				obj.FloatValue, ok = sc.floatToken()
			case "boolValue":
				bit = fieldBool
				var b bool
				b, ok = sc.bool()
				obj.BoolValue = &b
			default:
				return types.Value{}, false
			}
			if !ok || seen&bit != 0 {
				return types.Value{}, false
			}
			seen |= bit
			if sc.consume(',') {
				continue
			}
			if !sc.consume('}') {
				return types.Value{}, false
			}
			break
		}
	}
	var w wireValue
	if err := w.fromObject(&obj); err != nil {
		return types.Value{}, false
	}
	return w.Value, true
}

// jsonScanner reads the JSON of a request body front to back. Every method
// skips the whitespace before its token and reports false for anything it
// does not handle, valid JSON or not.
type jsonScanner struct {
	data []byte
	pos  int
}

func (sc *jsonScanner) skipSpace() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *jsonScanner) peek() byte {
	sc.skipSpace()
	if sc.pos < len(sc.data) {
		return sc.data[sc.pos]
	}
	return 0
}

// consume takes the byte c when it comes next.
func (sc *jsonScanner) consume(c byte) bool {
	if sc.peek() == c {
		sc.pos++
		return true
	}
	return false
}

func (sc *jsonScanner) atEnd() bool {
	sc.skipSpace()
	return sc.pos == len(sc.data)
}

func (sc *jsonScanner) literal(word string) bool {
	sc.skipSpace()
	if !bytes.HasPrefix(sc.data[sc.pos:], []byte(word)) {
		return false
	}
	sc.pos += len(word)
	return true
}

func (sc *jsonScanner) bool() (bool, bool) {
	switch sc.peek() {
	case 't':
		return true, sc.literal("true")
	case 'f':
		return false, sc.literal("false")
	}
	return false, false
}

// rawKey returns the bytes of a string without escapes (an object key):
// keys are compared as bytes, so any escape goes to the slow path.
func (sc *jsonScanner) rawKey() ([]byte, bool) {
	if sc.peek() != '"' {
		return nil, false
	}
	start := sc.pos + 1
	for i := start; i < len(sc.data); i++ {
		switch c := sc.data[i]; {
		case c == '"':
			sc.pos = i + 1
			key := sc.data[start:i]
			return key, utf8.Valid(key)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// string scans a string value. The two-character escapes are decoded; a
// \u escape (with its surrogate rules) and invalid UTF-8 (which
// encoding/json replaces by U+FFFD) go to the slow path.
func (sc *jsonScanner) string() (string, bool) {
	if sc.peek() != '"' {
		return "", false
	}
	start := sc.pos + 1
	ascii := true
	for i := start; i < len(sc.data); i++ {
		c := sc.data[i]
		switch {
		case c == '"':
			sc.pos = i + 1
			raw := sc.data[start:i]
			if !ascii && !utf8.Valid(raw) {
				return "", false
			}
			return string(raw), true
		case c == '\\':
			return sc.escapedString(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// escapedString is string for a value with backslash escapes.
func (sc *jsonScanner) escapedString(start int) (string, bool) {
	var sb strings.Builder
	sb.Grow(len(sc.data) - start)
	for i := start; i < len(sc.data); i++ {
		c := sc.data[i]
		switch {
		case c == '"':
			sc.pos = i + 1
			s := sb.String()
			return s, utf8.ValidString(s)
		case c < 0x20:
			return "", false
		case c != '\\':
			sb.WriteByte(c)
			continue
		}
		i++
		if i == len(sc.data) {
			return "", false
		}
		switch sc.data[i] {
		case '"', '\\', '/':
			sb.WriteByte(sc.data[i])
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		default: // \uXXXX and invalid escapes
			return "", false
		}
	}
	return "", false
}

// rowFormat is string for "rowFormat", without allocating for the two
// formats there are.
func (sc *jsonScanner) rowFormat() (string, bool) {
	start := sc.pos
	raw, ok := sc.rawKey()
	if !ok {
		sc.pos = start
		return sc.string()
	}
	switch string(raw) {
	case rowFormatArray:
		return rowFormatArray, true
	case rowFormatObject:
		return rowFormatObject, true
	}
	return string(raw), true
}

// number scans a JSON number and returns its text.
func (sc *jsonScanner) number() ([]byte, bool) {
	sc.skipSpace()
	d, i := sc.data, sc.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return nil, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i == len(d) || !isDigit(d[i]) {
			return nil, false
		}
		i = skipDigits(d, i)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i == len(d) || !isDigit(d[i]) {
			return nil, false
		}
		i = skipDigits(d, i)
	}
	tok := d[sc.pos:i]
	sc.pos = i
	return tok, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipDigits(d []byte, i int) int {
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	return i
}

// maxFastDigits keeps int64 from overflowing: longer integers (and any
// fraction or exponent, which encoding/json refuses for an integer field)
// go to the slow path.
const maxFastDigits = 18

// int64 scans an integer.
func (sc *jsonScanner) int64() (int64, bool) {
	tok, ok := sc.number()
	if !ok {
		return 0, false
	}
	neg := tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	if len(digits) > maxFastDigits {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func (sc *jsonScanner) int64Pointer() (*int64, bool) {
	n, ok := sc.int64()
	return &n, ok
}

// floatToken returns the raw JSON of a floatValue (a number or a string
// without escapes), for decodeFloatField.
func (sc *jsonScanner) floatToken() ([]byte, bool) {
	if sc.peek() != '"' {
		return sc.number()
	}
	start := sc.pos
	if _, ok := sc.rawKey(); !ok {
		return nil, false
	}
	return sc.data[start:sc.pos], true
}
