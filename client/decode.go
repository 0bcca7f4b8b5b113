package client

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The response decoder is hand-written: every statement's result goes through
// it and encoding/json's reflection (plus a second pass over a RawMessage for
// the rows) dominated the client's CPU and allocations in BenchmarkDecodeRows100.
// It accepts standard JSON only; unknown fields are skipped.

// response is the union of every success and failure body we read.
type response struct {
	Status  string
	Code    string
	Message string
	Kind    string
	DB      string
	Columns []Column

	rows        [][]any
	hasRows     bool   // a rows array was present
	objectRows  []byte // rows in object form, decoded once columns are known
	affected    int64
	hasAffected bool
	txnPT       int64
	txnCounter  int64
	hasPT       bool
	hasCounter  bool
}

var errSyntax = errors.New("client: malformed JSON response")

type decoder struct {
	b     []byte
	i     int
	depth int // nesting of skip, bounded so hostile input cannot exhaust the stack
	// arena collects the bytes of every string cell; cells are re-sliced
	// from one string built at the end, so a string cell costs one
	// allocation (its interface box) instead of two.
	arena     []byte
	arenaRefs []arenaRef
}

type arenaRef struct {
	cell       int // index into the cells being decoded
	start, end int // bounds in arena
}

// parse decodes body into r.
func (r *response) parse(body []byte) error {
	d := decoder{b: body}
	if err := d.object(func(key []byte) error { return r.field(&d, key) }); err != nil {
		return err
	}
	d.ws()
	if d.i != len(d.b) {
		return d.errorf("trailing data")
	}
	if r.objectRows != nil {
		od := decoder{b: r.objectRows}
		rows, err := od.objectRows(r.Columns)
		if err != nil {
			return err
		}
		r.rows, r.hasRows = rows, true
	}
	if r.hasRows && len(r.rows) > 0 && len(r.rows[0]) != len(r.Columns) {
		return fmt.Errorf("client: rows have %d values for %d columns", len(r.rows[0]), len(r.Columns))
	}
	return nil
}

func (r *response) field(d *decoder, key []byte) error {
	var err error
	switch string(key) {
	case "status":
		r.Status, err = d.stringOrNull()
	case "code":
		r.Code, err = d.stringOrNull()
	case "message":
		r.Message, err = d.stringOrNull()
	case "kind":
		r.Kind, err = d.stringOrNull()
	case "databaseName":
		r.DB, err = d.stringOrNull()
	case "columns":
		r.Columns, err = d.columns()
	case "rows":
		err = r.rowsField(d)
	case "rowsAffected":
		r.affected, err = d.int64()
		r.hasAffected = err == nil
	case "txnIdPT":
		r.txnPT, err = d.int64()
		r.hasPT = err == nil
	case "txnIdCounter":
		r.txnCounter, err = d.int64()
		r.hasCounter = err == nil
	default:
		err = d.skip()
	}
	return err
}

// rowsField handles "rows": an array of arrays, an array of objects, a
// number (affected rows, as /execute-sql-non-query answers) or null.
func (r *response) rowsField(d *decoder) error {
	d.ws()
	if d.i >= len(d.b) {
		return d.errorf("unexpected end")
	}
	switch c := d.b[d.i]; {
	case c == 'n':
		return d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := d.int64()
		r.affected, r.hasAffected = n, err == nil
		return err
	case c != '[':
		return d.errorf("rows is neither an array nor a number")
	}
	// Peek at the first element.
	j := d.i + 1
	for j < len(d.b) && isSpace(d.b[j]) {
		j++
	}
	if j < len(d.b) && d.b[j] == '{' {
		start := d.i
		if err := d.skip(); err != nil {
			return err
		}
		r.objectRows = d.b[start:d.i]
		return nil
	}
	rows, err := d.arrayRows()
	r.rows, r.hasRows = rows, err == nil
	return err
}

// arrayRows decodes [[v, v], [v, v]] into rows sharing one cell slice.
func (d *decoder) arrayRows() ([][]any, error) {
	var cells []any
	var widths []int
	if err := d.expect('['); err != nil {
		return nil, err
	}
	err := d.list(']', func() error {
		if err := d.expect('['); err != nil {
			return err
		}
		n := 0
		err := d.list(']', func() error {
			cells = append(cells, nil)
			n++
			return d.cell(cells, len(cells)-1)
		})
		widths = append(widths, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.finishArena(cells)
	rows := make([][]any, len(widths))
	off := 0
	for i, w := range widths {
		if w != widths[0] {
			return nil, fmt.Errorf("client: row %d has %d values, row 0 has %d", i, w, widths[0])
		}
		rows[i] = cells[off : off+w : off+w]
		off += w
	}
	return rows, nil
}

// objectRows decodes [{"col": v, ...}, ...] into rows in column order.
func (d *decoder) objectRows(cols []Column) ([][]any, error) {
	width := len(cols)
	var cells []any
	var nrows int
	if err := d.expect('['); err != nil {
		return nil, err
	}
	err := d.list(']', func() error {
		base := len(cells)
		for range width {
			cells = append(cells, nil)
		}
		seen := 0
		err := d.object(func(key []byte) error {
			for j := range cols {
				if cols[j].Name == string(key) {
					seen++
					return d.cell(cells, base+j)
				}
			}
			return d.skip()
		})
		if err == nil && seen != width {
			err = fmt.Errorf("client: row %d does not name every column", nrows)
		}
		nrows++
		return err
	})
	if err != nil {
		return nil, err
	}
	d.finishArena(cells)
	rows := make([][]any, nrows)
	for i := range rows {
		rows[i] = cells[i*width : (i+1)*width : (i+1)*width]
	}
	return rows, nil
}

// cell decodes a SPEC §3.1 column value object into cells[idx]. String
// values are appended to the arena and placed by finishArena.
func (d *decoder) cell(cells []any, idx int) error {
	var kind Kind
	var long int64
	var float float64
	var boolean bool
	strStart, strEnd, strEscaped, hasStr := 0, 0, false, false
	err := d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			kind, err = d.kind()
		case "strValue":
			d.ws()
			if d.i < len(d.b) && d.b[d.i] == 'n' {
				return d.literal("null")
			}
			strStart, strEnd, strEscaped, err = d.rawString()
			hasStr = err == nil
		case "longValue":
			long, err = d.int64()
		case "floatValue":
			float, err = d.float64()
		case "boolValue":
			boolean, err = d.bool()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	switch kind {
	case KindNull:
		cells[idx] = nil
	case KindInt64:
		cells[idx] = long
	case KindFloat64:
		cells[idx] = float
	case KindBool:
		cells[idx] = boolean
	case KindOID, KindString, KindBytes, KindDate, KindTimestamp, KindTimestampTZ, KindInterval, KindNumeric, KindUUID, KindJSONB:
		if !hasStr {
			cells[idx] = ""
			return nil
		}
		aStart := len(d.arena)
		if strEscaped {
			d.arena = appendUnescaped(d.arena, d.b[strStart:strEnd])
		} else {
			d.arena = append(d.arena, d.b[strStart:strEnd]...)
		}
		d.arenaRefs = append(d.arenaRefs, arenaRef{cell: idx, start: aStart, end: len(d.arena)})
	default:
		return fmt.Errorf("client: unknown value type %d", kind)
	}
	return nil
}

// kind decodes a type code: a number, or a type name as some servers send
// for columns.
func (d *decoder) kind() (Kind, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '"' {
		name, err := d.stringOrNull()
		if err != nil {
			return KindNull, err
		}
		k, ok := kindFromName(name)
		if !ok {
			return KindNull, fmt.Errorf("client: unknown type %q", name)
		}
		return k, nil
	}
	n, err := d.int64()
	if err != nil {
		return KindNull, err
	}
	if n < 0 || n > int64(kindMax) {
		return KindNull, fmt.Errorf("client: unknown type code %d", n)
	}
	return Kind(n), nil
}

// finishArena builds one string from the arena and slices every string
// cell out of it.
func (d *decoder) finishArena(cells []any) {
	if len(d.arenaRefs) == 0 {
		return
	}
	all := string(d.arena)
	for _, ref := range d.arenaRefs {
		cells[ref.cell] = all[ref.start:ref.end]
	}
	d.arenaRefs, d.arena = d.arenaRefs[:0], d.arena[:0]
}

func (d *decoder) columns() ([]Column, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == 'n' {
		return nil, d.literal("null")
	}
	cols := []Column{}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	err := d.list(']', func() error {
		var col Column
		err := d.object(func(key []byte) error {
			var err error
			switch string(key) {
			case "name":
				col.Name, err = d.stringOrNull()
			case "type":
				col.Type, err = d.kind()
			default:
				err = d.skip()
			}
			return err
		})
		cols = append(cols, col)
		return err
	})
	return cols, err
}

// --- JSON scanning primitives ---

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (d *decoder) ws() {
	for d.i < len(d.b) && isSpace(d.b[d.i]) {
		d.i++
	}
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) expect(c byte) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != c {
		return d.errorf("expected %q", c)
	}
	d.i++
	return nil
}

// list calls elem for each element until the closing byte; the opening
// bracket has been consumed.
func (d *decoder) list(closing byte, elem func() error) error {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == closing {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.errorf("unexpected end")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case closing:
			d.i++
			return nil
		default:
			return d.errorf("expected ',' or %q", closing)
		}
	}
}

// object calls field for each key of an object; field must consume the value.
func (d *decoder) object(field func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	return d.list('}', func() error {
		d.ws()
		start, end, escaped, err := d.rawString()
		if err != nil {
			return err
		}
		key := d.b[start:end]
		if escaped {
			key = appendUnescaped(nil, key)
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		return field(key)
	})
}

// rawString scans a string and returns the bounds of its contents.
func (d *decoder) rawString() (start, end int, escaped bool, err error) {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return 0, 0, false, d.errorf("expected string")
	}
	d.i++
	start = d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			end = d.i
			d.i++
			return start, end, escaped, nil
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			return 0, 0, false, d.errorf("control character in string")
		default:
			d.i++
		}
	}
	return 0, 0, false, d.errorf("unterminated string")
}

func (d *decoder) stringOrNull() (string, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == 'n' {
		return "", d.literal("null")
	}
	start, end, escaped, err := d.rawString()
	if err != nil {
		return "", err
	}
	if escaped {
		return string(appendUnescaped(nil, d.b[start:end])), nil
	}
	return string(d.b[start:end]), nil
}

// appendUnescaped appends the JSON string contents s, unescaped. s was
// bounded by rawString, so every backslash has a following byte.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := decodeU(s[i+1:])
			i += n
			if utf16.IsSurrogate(r) {
				if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2, n2 := decodeU(s[i+3:])
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						r = pair
						i += 2 + n2
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/' and anything else stand for themselves
			dst = append(dst, s[i])
		}
	}
	return dst
}

// decodeU reads the 4 hex digits of a \u escape; malformed gives U+FFFD.
func decodeU(s []byte) (rune, int) {
	if len(s) < 4 {
		return utf8.RuneError, len(s)
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return utf8.RuneError, 4
		}
	}
	return r, 4
}

func (d *decoder) literal(lit string) error {
	d.ws()
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.errorf("expected %s", lit)
	}
	d.i += len(lit)
	return nil
}

func (d *decoder) bool() (bool, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == 't' {
		return true, d.literal("true")
	}
	return false, d.literal("false")
}

// numberBounds scans a JSON number.
func (d *decoder) numberBounds() (int, int, error) {
	d.ws()
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return 0, 0, d.errorf("expected number")
	}
	return start, d.i, nil
}

// int64 parses an integer without going through a string. A number with a
// fraction or exponent is accepted when its value is integral (some JSON
// encoders write 5.0).
func (d *decoder) int64() (int64, error) {
	start, end, err := d.numberBounds()
	if err != nil {
		return 0, err
	}
	s := d.b[start:end]
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return d.int64Slow(s)
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return d.int64Slow(s)
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, d.errorf("integer %s out of range", s)
		}
		return -int64(n), nil
	}
	if n > 1<<63-1 {
		return 0, d.errorf("integer %s out of range", s)
	}
	return int64(n), nil
}

func (d *decoder) int64Slow(s []byte) (int64, error) {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, d.errorf("bad integer %s", s)
	}
	return int64(f), nil
}

// float64 parses a number, or one of the strings "NaN", "Infinity" and
// "-Infinity" the server sends for non-finite values.
func (d *decoder) float64() (float64, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '"' {
		s, err := d.stringOrNull()
		if err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity", "+Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, d.errorf("bad float %q", s)
	}
	start, end, err := d.numberBounds()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(d.b[start:end]), 64)
	if err != nil {
		return 0, d.errorf("bad number %s", d.b[start:end])
	}
	return f, nil
}

const maxSkipDepth = 512

// skip consumes any JSON value.
func (d *decoder) skip() error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxSkipDepth {
		return d.errorf("nesting too deep")
	}
	d.ws()
	if d.i >= len(d.b) {
		return d.errorf("unexpected end")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		d.i++
		return d.list(']', d.skip)
	case c == '"':
		_, _, _, err := d.rawString()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		_, _, err := d.numberBounds()
		return err
	}
}
