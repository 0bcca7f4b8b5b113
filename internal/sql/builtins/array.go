package builtins

import (
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Arrays have no column type here: an array value is the STRING of its
// PostgreSQL text form, '{a,"b c",NULL}'. These helpers read and write
// that form; the array functions below work on it.

// ArrayElem is one element of an array's text form.
type ArrayElem struct {
	Text string
	Null bool
}

// ParseArray reads a one-dimensional array's text form. CADB0400 for
// anything else (nested arrays included).
func ParseArray(s string) ([]ArrayElem, error) {
	bad := func() ([]ArrayElem, error) {
		return nil, errcode.New(errcode.InvalidInput, "malformed array literal: %q", s)
	}
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return bad()
	}
	body := s[1 : len(s)-1]
	out := []ArrayElem{}
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	i := 0
	for {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var el ArrayElem
		if i < len(body) && body[i] == '"' {
			var b strings.Builder
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
			}
			if i >= len(body) {
				return bad()
			}
			i++
			el.Text = b.String()
		} else {
			start := i
			for i < len(body) && body[i] != ',' {
				if body[i] == '{' || body[i] == '}' || body[i] == '"' {
					return bad()
				}
				i++
			}
			el.Text = strings.TrimSpace(body[start:i])
			if el.Text == "" {
				return bad()
			}
			el.Null = strings.EqualFold(el.Text, "null")
		}
		out = append(out, el)
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i == len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return bad()
		}
		i++
	}
}

// ParseArrayOrVector is ParseArray that also reads the space-separated
// text of PostgreSQL's int2vector and oidvector (pg_index.indkey: "1 3").
func ParseArrayOrVector(s string) ([]ArrayElem, error) {
	if t := strings.TrimSpace(s); t == "" || t[0] != '{' {
		out := []ArrayElem{}
		for _, f := range strings.Fields(t) {
			out = append(out, ArrayElem{Text: f})
		}
		return out, nil
	}
	return ParseArray(s)
}

// FormatArray writes values as an array's text form (NULL elements as
// NULL, strings quoted when needed).
func FormatArray(vals []types.Value) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		if v.Kind == types.Null {
			b.WriteString("NULL")
			continue
		}
		text := v.String()
		if v.Kind == types.Bool {
			text = text[:1]
		}
		if needsArrayQuotes(text) {
			b.WriteByte('"')
			for j := 0; j < len(text); j++ {
				if text[j] == '"' || text[j] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(text[j])
			}
			b.WriteByte('"')
			continue
		}
		b.WriteString(text)
	}
	b.WriteByte('}')
	return b.String()
}

func needsArrayQuotes(s string) bool {
	if s == "" || strings.EqualFold(s, "null") {
		return true
	}
	return strings.ContainsAny(s, "{}\",\\ \t\n")
}

func arrayArg(name string, v types.Value) ([]ArrayElem, error) {
	els, err := ParseArray(v.Str)
	if err != nil {
		return nil, argError(name, "%v", err)
	}
	return els, nil
}

func arrayFuncs() []*Func {
	return []*Func{
		// array_to_string(array, sep[, null_text]): NULL elements are
		// skipped unless null_text is given.
		{Name: "array_to_string", MinArgs: 2, MaxArgs: 3, Args: []ArgClass{StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("array_to_string", a[0])
				if err != nil {
					return types.Value{}, err
				}
				parts := make([]string, 0, len(els))
				for _, e := range els {
					switch {
					case !e.Null:
						parts = append(parts, e.Text)
					case len(a) == 3:
						parts = append(parts, a[2].Str)
					}
				}
				return types.NewString(strings.Join(parts, a[1].Str)), nil
			}},
		{Name: "array_upper", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, IntArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("array_upper", a[0])
				if err != nil || len(els) == 0 || a[1].Int != 1 {
					return types.NullValue, err
				}
				return types.NewInt(int64(len(els))), nil
			}},
		{Name: "array_lower", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, IntArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("array_lower", a[0])
				if err != nil || len(els) == 0 || a[1].Int != 1 {
					return types.NullValue, err
				}
				return types.NewInt(1), nil
			}},
		{Name: "array_length", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, IntArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("array_length", a[0])
				if err != nil || len(els) == 0 || a[1].Int != 1 {
					return types.NullValue, err
				}
				return types.NewInt(int64(len(els))), nil
			}},
		{Name: "cardinality", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{StringArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("cardinality", a[0])
				if err != nil {
					return types.Value{}, err
				}
				return types.NewInt(int64(len(els))), nil
			}},
		// array_subscript(array, i) is array[i] (1-based; NULL outside).
		// The element's text comes back as STRING; its static kind is
		// unknown (the array's element type is not known), so it may be
		// compared with a number (a mismatch is then a run-time error).
		{Name: "array_subscript", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, IntArg}, Result: types.Null,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				els, err := arrayArg("array_subscript", a[0])
				if err != nil {
					return types.Value{}, err
				}
				i := a[1].Int
				if i < 1 || i > int64(len(els)) || els[i-1].Null {
					return types.NullValue, nil
				}
				return types.NewString(els[i-1].Text), nil
			}},
		// pg_size_pretty(bytes) as PostgreSQL prints sizes: "8192 bytes",
		// "10 kB", "3 MB" (rounded, units of 1024, a unit once >= 10240).
		{Name: "pg_size_pretty", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{NumericArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				n := a[0].Int
				if a[0].Kind == types.Float64 {
					n = int64(a[0].Float)
				}
				return types.NewString(sizePretty(n)), nil
			}},
		{Name: "pg_encoding_to_char", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{IntArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				if a[0].Int == 6 {
					return types.NewString("UTF8"), nil
				}
				return types.NewString(""), nil
			}},
	}
}

// ArrayElemValue converts an element's text to kind (for comparisons
// with ANY/ALL): INT64, FLOAT64 and BOOL are parsed, others stay STRING.
func ArrayElemValue(e ArrayElem, kind types.Kind) (types.Value, error) {
	if e.Null {
		return types.NullValue, nil
	}
	switch kind {
	case types.Int64:
		i, err := strconv.ParseInt(e.Text, 10, 64)
		if err != nil {
			return types.Value{}, errcode.New(errcode.InvalidInput, "invalid input syntax for type bigint: %q", e.Text)
		}
		return types.NewInt(i), nil
	case types.Float64, types.Bool:
		return Cast(types.NewString(e.Text), kind)
	}
	return types.NewString(e.Text), nil
}

func sizePretty(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	unit, units := "bytes", []string{"kB", "MB", "GB", "TB", "PB"}
	for i := 0; n >= 10*1024 && i < len(units); i++ {
		n = (n + 512) / 1024
		unit = units[i]
	}
	if neg {
		n = -n
	}
	return strconv.FormatInt(n, 10) + " " + unit
}
