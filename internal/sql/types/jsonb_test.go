package types

import (
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestJSONBText(t *testing.T) {
	for in, out := range map[string]string{
		`{"b":1, "a" : [1,2.50e1, {"z":null,"y":true}], "a":"dup"}`: `{"a": "dup", "b": 1}`,
		`{"bb": 1, "a": 2, "c": 3}`:                                 `{"a": 2, "c": 3, "bb": 1}`,
		` [ ] `:                                                     `[]`,
		`"<é>\u0041\n\u0007"`:                                       `"<é>A\n\u0007"`,
		`-0.0`:                                                      `0.0`,
		`1E2`:                                                       `100`,
		`[{"a":{}}]`:                                                `[{"a": {}}]`,
	} {
		v, err := ParseJSONB(in)
		if err != nil || v.Str != out {
			t.Errorf("%s: %q %v, want %q", in, v.Str, err, out)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `[1,]`, `nul`, `{"a":1} x`, `{1: 2}`, "\"\xff\"", strings.Repeat("[", 600) + strings.Repeat("]", 600)} {
		if _, err := ParseJSONB(bad); errcode.Of(err) != errcode.InvalidTextRepresentation {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestJSONBContains(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`{"a": 1, "b": [1, 2, 3]}`, `{"b": [3, 1]}`, true},
		{`{"a": 1, "b": {"c": 2, "d": 3}}`, `{"b": {"c": 2}}`, true},
		{`{"a": 1}`, `{"a": 1, "b": 2}`, false},
		{`[1, 2, [3, 4]]`, `[[4]]`, true},
		{`[1, 2]`, `1`, true},
		{`[[1, 2]]`, `1`, false},
		{`"a"`, `"a"`, true},
		{`{"a": 1.0}`, `{"a": 1}`, true},
		{`{"a": [1]}`, `{"a": 1}`, false},
		{`[]`, `[]`, true},
		{`{}`, `[]`, false},
	} {
		a, _ := ParseJSON(tc.a)
		b, _ := ParseJSON(tc.b)
		if got := a.Contains(b); got != tc.want {
			t.Errorf("%s @> %s = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzParseJSONB(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[2,{"c":null}]}`, `"\u0000"`, `1.5e3`, `[`, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseJSONB(s)
		if err != nil {
			if c := errcode.Of(err); c != errcode.InvalidTextRepresentation && c != errcode.NumericOutOfRange {
				t.Fatalf("%q: code %s: %v", s, c, err)
			}
			return
		}
		again, err := ParseJSONB(v.Str)
		if err != nil || again != v {
			t.Fatalf("%q → %q does not read back: %q %v", s, v.Str, again.Str, err)
		}
	})
}
