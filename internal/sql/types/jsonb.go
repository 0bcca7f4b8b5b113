package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// JSONB values hold their canonical text in Str, PostgreSQL's jsonb
// output: object keys sorted (shorter first, then bytewise) with
// duplicates removed (the last wins), numbers in NUMERIC's text, ", " and
// ": " separators.

// JSON is a parsed JSON value.
type JSON struct {
	Kind  JSONKind
	Str   string // string text; number canonical text; "true"/"false"
	Elems []JSON // array elements
	Keys  []string
	Vals  []JSON // object values, parallel to Keys, in canonical order
}

// JSONKind is the type of a JSON value.
type JSONKind uint8

const (
	JSONNull JSONKind = iota
	JSONBool
	JSONNumber
	JSONString
	JSONArray
	JSONObject
)

// MaxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const MaxJSONDepth = 512

func badJSON(s string, why string) error {
	return errcode.New(errcode.InvalidTextRepresentation, "invalid input syntax for type json: %s in %q", why, clip(s))
}

// ParseJSON reads JSON text into its canonical jsonb form. Invalid JSON
// is CADB0414 (22P02) naming the text.
func ParseJSON(s string) (JSON, error) {
	if !utf8.ValidString(s) {
		return JSON{}, badJSON(s, "invalid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	j, err := readJSON(dec, s, 0)
	if err != nil {
		return JSON{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return JSON{}, badJSON(s, "trailing text")
	}
	return j, nil
}

func readJSON(dec *json.Decoder, src string, depth int) (JSON, error) {
	if depth > MaxJSONDepth {
		return JSON{}, badJSON(src, "nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return JSON{}, badJSON(src, jsonErrorText(err))
	}
	switch t := tok.(type) {
	case nil:
		return JSON{Kind: JSONNull}, nil
	case bool:
		return JSON{Kind: JSONBool, Str: strconv.FormatBool(t)}, nil
	case json.Number:
		n, err := ParseNumeric(string(t))
		if err != nil {
			return JSON{}, err
		}
		return JSON{Kind: JSONNumber, Str: n.Str}, nil
	case string:
		return JSON{Kind: JSONString, Str: t}, nil
	case json.Delim:
		if t == '[' {
			arr := JSON{Kind: JSONArray, Elems: []JSON{}}
			for dec.More() {
				e, err := readJSON(dec, src, depth+1)
				if err != nil {
					return JSON{}, err
				}
				arr.Elems = append(arr.Elems, e)
			}
			if _, err := dec.Token(); err != nil {
				return JSON{}, badJSON(src, jsonErrorText(err))
			}
			return arr, nil
		}
		if t == '{' {
			vals := map[string]JSON{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return JSON{}, badJSON(src, jsonErrorText(err))
				}
				k, ok := kt.(string)
				if !ok {
					return JSON{}, badJSON(src, "object key is not a string")
				}
				v, err := readJSON(dec, src, depth+1)
				if err != nil {
					return JSON{}, err
				}
				vals[k] = v // the last duplicate wins
			}
			if _, err := dec.Token(); err != nil {
				return JSON{}, badJSON(src, jsonErrorText(err))
			}
			obj := JSON{Kind: JSONObject, Keys: make([]string, 0, len(vals))}
			for k := range vals {
				obj.Keys = append(obj.Keys, k)
			}
			sort.Slice(obj.Keys, func(i, j int) bool {
				a, b := obj.Keys[i], obj.Keys[j]
				if len(a) != len(b) {
					return len(a) < len(b)
				}
				return a < b
			})
			obj.Vals = make([]JSON, len(obj.Keys))
			for i, k := range obj.Keys {
				obj.Vals[i] = vals[k]
			}
			return obj, nil
		}
	}
	return JSON{}, badJSON(src, "unexpected token")
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// ParseJSONB reads JSON text into a JSONB value.
func ParseJSONB(s string) (Value, error) {
	j, err := ParseJSON(s)
	if err != nil {
		return Value{}, err
	}
	return NewJSONB(j), nil
}

// NewJSONB builds a JSONB value from a parsed (canonical) JSON.
func NewJSONB(j JSON) Value { return Value{Kind: JSONB, Str: j.Text()} }

// JSON returns the parsed form of a JSONB value.
func (v Value) JSON() JSON {
	j, err := ParseJSON(v.Str)
	if err != nil {
		return JSON{Kind: JSONNull}
	}
	return j
}

// Text renders j in PostgreSQL's jsonb output format.
func (j JSON) Text() string {
	var b bytes.Buffer
	j.write(&b)
	return b.String()
}

func (j JSON) write(b *bytes.Buffer) {
	switch j.Kind {
	case JSONNull:
		b.WriteString("null")
	case JSONBool, JSONNumber:
		b.WriteString(j.Str)
	case JSONString:
		writeJSONString(b, j.Str)
	case JSONArray:
		b.WriteByte('[')
		for i, e := range j.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.write(b)
		}
		b.WriteByte(']')
	case JSONObject:
		b.WriteByte('{')
		for i, k := range j.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, k)
			b.WriteString(": ")
			j.Vals[i].write(b)
		}
		b.WriteByte('}')
	}
}

// writeJSONString quotes s as PostgreSQL does: only ", \ and control
// characters are escaped.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// Field returns the value of key in an object (->); ok=false when j is
// not an object or has no such key.
func (j JSON) Field(key string) (JSON, bool) {
	if j.Kind != JSONObject {
		return JSON{}, false
	}
	for i, k := range j.Keys {
		if k == key {
			return j.Vals[i], true
		}
	}
	return JSON{}, false
}

// Index returns element i of an array (negative counts from the end);
// ok=false when out of range or not an array.
func (j JSON) Index(i int64) (JSON, bool) {
	if j.Kind != JSONArray {
		return JSON{}, false
	}
	if i < 0 {
		i += int64(len(j.Elems))
	}
	if i < 0 || i >= int64(len(j.Elems)) {
		return JSON{}, false
	}
	return j.Elems[i], true
}

// AsText is ->>'s rendering: a string's own text, null as SQL NULL
// (ok=false), anything else its JSON text.
func (j JSON) AsText() (string, bool) {
	switch j.Kind {
	case JSONNull:
		return "", false
	case JSONString:
		return j.Str, true
	}
	return j.Text(), true
}

// Contains is PostgreSQL's jsonb @>: objects contain objects whose every
// key they have with a containing value; arrays contain arrays whose
// every element some element contains (order and duplicates do not
// matter), and at the top level an array contains a scalar element;
// scalars contain equal scalars.
func (j JSON) Contains(other JSON) bool { return j.contains(other, true) }

func (j JSON) contains(o JSON, top bool) bool {
	if j.Kind == JSONArray && o.Kind != JSONArray && o.Kind != JSONObject && top {
		for _, e := range j.Elems {
			if e.Kind == o.Kind && e.Str == o.Str {
				return true
			}
		}
		return false
	}
	if j.Kind != o.Kind {
		return false
	}
	switch j.Kind {
	case JSONObject:
		for i, k := range o.Keys {
			v, ok := j.Field(k)
			if !ok || !v.contains(o.Vals[i], false) {
				return false
			}
		}
		return true
	case JSONArray:
		for _, oe := range o.Elems {
			found := false
			for _, e := range j.Elems {
				if e.contains(oe, false) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case JSONNumber:
		return NumericEqual(Value{Kind: Numeric, Str: j.Str}, Value{Kind: Numeric, Str: o.Str})
	}
	return j.Str == o.Str
}
