package eval

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// seedExpressions returns every expression of the datadriven files.
func seedExpressions(t testing.TB) []string {
	files, err := filepath.Glob("testdata/exprs/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // directories (testdata/fuzz)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if expr, _, ok := strings.Cut(line, " => "); ok {
				out = append(out, expr)
			}
		}
	}
	return out
}

// FuzzEval: compiling and evaluating any parseable expression against the
// test row never panics, and every error carries a CADB code.
func FuzzEval(f *testing.F) {
	for _, s := range seedExpressions(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e, err := parseWithSQLParser(text)
		if err != nil {
			return
		}
		c, err := Compile(e, testScope{testColumns}, testEnv(), nil)
		if err != nil {
			if errcode.Of(err) == errcode.Internal {
				t.Fatalf("%q: compile error without a code: %v", text, err)
			}
			return
		}
		v, err := c.Eval(testRow())
		if err != nil {
			if errcode.Of(err) == errcode.Internal {
				t.Fatalf("%q: eval error without a code: %v", text, err)
			}
			return
		}
		if c.Kind != types.Null && v.Kind != types.Null && v.Kind != c.Kind {
			t.Fatalf("%q: static kind %s, value %v of kind %s", text, c.Kind, v, v.Kind)
		}
	})
}

// valueFrom decodes one value from fuzz bytes.
func valueFrom(data []byte) (types.Value, []byte) {
	if len(data) == 0 {
		return types.NullValue, nil
	}
	tag, data := data[0], data[1:]
	take := func(n int) []byte {
		if n > len(data) {
			n = len(data)
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	switch tag % 6 {
	case 0:
		return types.NullValue, data
	case 1:
		var buf [8]byte
		copy(buf[:], take(8))
		return types.NewInt(int64(binary.LittleEndian.Uint64(buf[:]))), data
	case 2:
		var buf [8]byte
		copy(buf[:], take(8))
		return types.NewFloat(math.Float64frombits(binary.LittleEndian.Uint64(buf[:]))), data
	case 3:
		n := 0
		if len(data) > 0 {
			n = int(data[0] % 40)
			data = data[1:]
		}
		return types.NewString(string(take(n))), data
	case 4:
		return types.NewBool(tag&0x80 != 0), data
	default:
		var raw [types.OIDLen]byte
		copy(raw[:], take(types.OIDLen))
		return types.NewOID(raw), data
	}
}

// FuzzBuiltins: every function, on any argument values of any kind and
// count, returns a value or a CADB error and never panics.
func FuzzBuiltins(f *testing.F) {
	f.Add(uint8(0), []byte{3, 5, 'h', 'e', 'l', 'l', 'o', 1, 2, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(7), []byte{2, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Add(uint8(20), []byte{3, 10, '2', '0', '2', '4', '-', '0', '1', '-', '3', '1', 1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 5, 'm', 'o', 'n', 't', 'h'})
	f.Add(uint8(30), []byte{3, 7, '{', '"', 'a', '"', ':', '1', '}', 3, 3, '$', '.', 'a'})
	names := builtins.Names()
	ctx := &builtins.Context{Now: testNow}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fn, _ := builtins.Lookup(names[int(which)%len(names)])
		var args []types.Value
		for len(data) > 0 && len(args) < 4 {
			var v types.Value
			v, data = valueFrom(data)
			args = append(args, v)
		}
		v, err := fn.Call(ctx, args)
		if err != nil {
			// A bad argument is a client error (CADB04xx: invalid input,
			// a value out of its type's range, a catalog function called
			// without a statement), never an internal one.
			if code := errcode.Of(err); !strings.HasPrefix(string(code), "CADB04") {
				t.Fatalf("%s%v: error %v is not a CADB04xx client error", fn.Name, args, err)
			}
			return
		}
		kinds := make([]types.Kind, len(args))
		for i, a := range args {
			kinds[i] = a.Kind
		}
		if k, err := fn.Check(kinds); err == nil && k != types.Null && v.Kind != types.Null && v.Kind != k {
			t.Fatalf("%s%v = %v: kind %s, Check said %s", fn.Name, args, v, v.Kind, k)
		}
	})
}

// FuzzLike compares the compiled matcher with a plain recursive one.
func FuzzLike(f *testing.F) {
	for _, seed := range [][2]string{{"mississippi", "m%iss%pi"}, {"abc", "a_c"}, {"a%b", `a\%b`}, {"", "%"}, {"ñ", "_"}} {
		f.Add(seed[0], seed[1], false)
	}
	f.Fuzz(func(t *testing.T, s, pattern string, ci bool) {
		got := Like(s, pattern, ci) // must not panic on any bytes
		if !utf8.ValidString(s) || !utf8.ValidString(pattern) {
			return // the oracle below would see U+FFFD, the matcher sees bytes
		}
		if ci {
			s, pattern = strings.ToLower(s), strings.ToLower(pattern)
		}
		if want := naiveLike([]rune(s), naiveTokens(pattern)); got != want {
			t.Fatalf("Like(%q, %q, %v) = %v, want %v", s, pattern, ci, got, want)
		}
	})
}

type naiveTok struct {
	kind byte // 'l' literal, '_' one, '%' many
	r    rune
}

func naiveTokens(p string) []naiveTok {
	rs := []rune(p)
	var out []naiveTok
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			out = append(out, naiveTok{'l', rs[i]})
		case rs[i] == '%':
			out = append(out, naiveTok{kind: '%'})
		case rs[i] == '_':
			out = append(out, naiveTok{kind: '_'})
		default:
			out = append(out, naiveTok{'l', rs[i]})
		}
	}
	return out
}

func naiveLike(s []rune, p []naiveTok) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	switch p[0].kind {
	case '%':
		for i := 0; i <= len(s); i++ {
			if naiveLike(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '_':
		return len(s) > 0 && naiveLike(s[1:], p[1:])
	}
	return len(s) > 0 && s[0] == p[0].r && naiveLike(s[1:], p[1:])
}
