package builtins

import (
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func stringFuncs() []*Func {
	str1 := func(name string, fn func(string) string) *Func {
		return &Func{Name: name, MinArgs: 1, MaxArgs: 1, Args: []ArgClass{StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return types.NewString(fn(a[0].Str)), nil
			}}
	}
	pred2 := func(name string, fn func(s, sub string) bool) *Func {
		return &Func{Name: name, MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg}, Result: types.Bool,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return types.NewBool(fn(a[0].Str, a[1].Str)), nil
			}}
	}
	trim := func(name string, spaces func(string) string, cut func(s, set string) string) *Func {
		return &Func{Name: name, MinArgs: 1, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				if len(a) == 2 {
					return types.NewString(cut(a[0].Str, a[1].Str)), nil
				}
				return types.NewString(spaces(a[0].Str)), nil
			}}
	}
	return []*Func{
		{Name: "length", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{StringArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return types.NewInt(int64(utf8.RuneCountInString(a[0].Str))), nil
			}},
		str1("lower", strings.ToLower),
		str1("quote_ident", QuoteIdent),
		str1("upper", strings.ToUpper),
		trim("trim", strings.TrimSpace, strings.Trim),
		trim("ltrim", func(s string) string { return strings.TrimLeft(s, " \t\r\n\v\f") }, strings.TrimLeft),
		trim("rtrim", func(s string) string { return strings.TrimRight(s, " \t\r\n\v\f") }, strings.TrimRight),
		{Name: "substring", MinArgs: 2, MaxArgs: 3, Args: []ArgClass{StringArg, IntArg, IntArg}, Result: types.String,
			Impl: substring},
		{Name: "replace", MinArgs: 3, MaxArgs: 3, Args: []ArgClass{StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				if a[1].Str == "" {
					return a[0], nil
				}
				return types.NewString(strings.ReplaceAll(a[0].Str, a[1].Str, a[2].Str)), nil
			}},
		pred2("contains", strings.Contains),
		pred2("starts_with", strings.HasPrefix),
		pred2("ends_with", strings.HasSuffix),
		{Name: "concat", MinArgs: 1, MaxArgs: -1, CallOnNull: true, Result: types.String, Impl: concat},
	}
}

// substring(s, start[, len]) counts characters from 1.
func substring(_ *Context, a []types.Value) (types.Value, error) {
	start := a[1].Int
	if start < 1 {
		return types.Value{}, argError("substring", "start must be >= 1, got %d", start)
	}
	length := int64(-1)
	if len(a) == 3 {
		length = a[2].Int
		if length < 0 {
			return types.Value{}, argError("substring", "length must be >= 0, got %d", length)
		}
	}
	s := a[0].Str
	// Walk to the byte offset of the start-th character.
	pos := 0
	for i := int64(1); i < start; i++ {
		if pos >= len(s) {
			return types.NewString(""), nil
		}
		_, size := utf8.DecodeRuneInString(s[pos:])
		pos += size
	}
	s = s[pos:]
	if length < 0 {
		return types.NewString(s), nil
	}
	end := 0
	for i := int64(0); i < length && end < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return types.NewString(s[:end]), nil
}

// concat joins the text form of its non-NULL arguments; all NULL → NULL.
func concat(_ *Context, a []types.Value) (types.Value, error) {
	var b strings.Builder
	seen := false
	for _, v := range a {
		if v.Kind == types.Null {
			continue
		}
		seen = true
		if v.Kind == types.String {
			b.WriteString(v.Str)
		} else {
			b.WriteString(v.String())
		}
	}
	if !seen {
		return types.NullValue, nil
	}
	return types.NewString(b.String()), nil
}

// QuoteIdent is PostgreSQL's quote_ident: a name that is not all lower-case
// letters, digits and underscores (not starting with a digit) is
// double-quoted, with quotes doubled.
func QuoteIdent(name string) string {
	bare := name != ""
	for i := 0; bare && i < len(name); i++ {
		c := name[i]
		bare = c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9'
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
