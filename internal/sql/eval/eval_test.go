package eval

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// testColumn is one column of the fixed test row.
type testColumn struct {
	table, name string
	kind        types.Kind // static kind the scope reports
	value       types.Value
}

func mustOID(s string) types.Value {
	v, err := types.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return v
}

// The fixed input row every datadriven expression is evaluated against.
var testColumns = []testColumn{
	{"t", "a", types.Int64, types.NewInt(15)},
	{"t", "b", types.Float64, types.NewFloat(2.5)},
	{"t", "name", types.String, types.NewString("xavier")},
	{"t", "flag", types.Bool, types.NewBool(true)},
	{"t", "n", types.Int64, types.NullValue},
	{"t", "s", types.String, types.NullValue},
	{"t", "id", types.OID, mustOID("0102030405060708090a0b0c")},
	{"t", "neg", types.Int64, types.NewInt(-7)},
	{"t", "big", types.Int64, types.NewInt(9223372036854775807)},
	{"t", "dyn", types.Null, types.NewString("dyn")}, // kind unknown statically
	{"t", "dynint", types.Null, types.NewInt(42)},
	{"t", "k", types.Int64, types.NewInt(1)},
	{"u", "k", types.Int64, types.NewInt(2)},
	{"u", "ts", types.String, types.NewString("2024-01-31T10:00:00Z")},
	{"u", "doc", types.String, types.NewString(`{"a": {"b": [10, 20, {"c": "x"}]}, "n": null, "f": 1.5, "t": true}`)},
}

type testScope struct{ cols []testColumn }

func (s testScope) Resolve(table, column string) (int, types.Kind, error) {
	found := -1
	for i, c := range s.cols {
		if c.name != column || (table != "" && c.table != table) {
			continue
		}
		if found >= 0 {
			return 0, types.Null, errcode.New(errcode.InvalidInput, "column reference %q is ambiguous", column)
		}
		found = i
	}
	if found < 0 {
		return 0, types.Null, errcode.New(errcode.UnknownColumn, "unknown column %q", column)
	}
	return found, s.cols[found].kind, nil
}

func testRow() []types.Value {
	row := make([]types.Value, len(testColumns))
	for i, c := range testColumns {
		row[i] = c.value
	}
	return row
}

var testNow = time.Date(2024, 6, 16, 12, 34, 56, 789_000_000, time.UTC)

func testEnv() *Env {
	return &Env{
		Now: testNow,
		Params: map[string]types.Value{
			"p":  types.NewInt(10),
			"ps": types.NewString("hello"),
			"pn": types.NullValue,
		},
	}
}

func formatValue(v types.Value) string {
	switch v.Kind {
	case types.Null:
		return "NULL"
	case types.String:
		return "STRING " + strconv.Quote(v.Str)
	}
	return v.Kind.String() + " " + v.String()
}

func formatErr(phase string, err error) string {
	return phase + " error " + string(errcode.Of(err))
}

// evalText parses, compiles and evaluates one expression against the test
// row, checking on the way that the static kind agrees with the value.
func evalText(t testing.TB, text string) string {
	e, err := parseWithSQLParser(text)
	if err != nil {
		t.Fatalf("parse: %q: %v", text, err)
	}
	return evalAST(t, e, text)
}

func evalAST(t testing.TB, e ast.Expr, text string) string {
	c, err := Compile(e, testScope{testColumns}, testEnv(), nil)
	if err != nil {
		return formatErr("compile", err)
	}
	v, err := c.Eval(testRow())
	if err != nil {
		return formatErr("eval", err)
	}
	if c.Kind != types.Null && v.Kind != types.Null && v.Kind != c.Kind {
		t.Errorf("%q: static kind %s but value %s", text, c.Kind, formatValue(v))
	}
	return formatValue(v)
}

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/exprs", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var out strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				switch d.Cmd {
				case "eval":
					fmt.Fprintf(&out, "%s => %s\n", line, evalText(t, line))
				case "predicate":
					fmt.Fprintf(&out, "%s => %s\n", line, predicateText(t, line))
				default:
					t.Fatalf("unknown command %q", d.Cmd)
				}
			}
			return out.String()
		})
	})
}

func predicateText(t testing.TB, text string) string {
	e, err := parseWithSQLParser(text)
	if err != nil {
		t.Fatalf("parse: %q: %v", text, err)
	}
	pred, err := CompilePredicate(e, testScope{testColumns}, testEnv(), nil)
	if err != nil {
		return formatErr("compile", err)
	}
	ok, err := pred(testRow())
	if err != nil {
		return formatErr("eval", err)
	}
	if ok {
		return "pass"
	}
	return "reject"
}
