package rowenc

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs testdata/encoding, which shows the exact bytes of
// encodings. Regenerate with: go test ./internal/sql/rowenc -run DataDriven -rewrite
//
// Commands:
//
//	key [desc]          one value per input line → its key bytes
//	tuple desc=<cols>   one value per line → the concatenated key (cols: 0-based
//	                    indexes of descending columns, e.g. desc=(1))
//	decode-key [desc]   hex → the value and the rest, or the error
//	row version=<n>     one value per line → the row payload bytes
//	decode-row          hex → the version and values, or the error
//
// Values are written NULL | int <n> | float <f> | bool <b> | string <go-quoted> | oid <hex>.
func TestDataDriven(t *testing.T) {
	datadriven.RunTest(t, "testdata/encoding", func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "key":
			desc := d.HasArg("desc")
			var out strings.Builder
			for _, v := range parseValues(t, d.Input) {
				fmt.Fprintf(&out, "%-24s → % x\n", formatValue(v), AppendKey(nil, v, desc))
			}
			return out.String()
		case "tuple":
			vals := parseValues(t, d.Input)
			desc := make([]bool, len(vals))
			if arg, ok := d.Arg("desc"); ok {
				for i := range arg.Vals {
					var col int
					arg.Scan(t, i, &col)
					desc[col] = true
				}
			}
			return fmt.Sprintf("% x\n", EncodeKeyValues(nil, vals, desc))
		case "decode-key":
			b := parseHex(t, d.Input)
			v, rest, err := DecodeKey(b, d.HasArg("desc"))
			if err != nil {
				return fmt.Sprintf("error: %v\n", err)
			}
			return fmt.Sprintf("%s rest=% x\n", formatValue(v), rest)
		case "row":
			var version uint32
			d.ScanArgs(t, "version", &version)
			return fmt.Sprintf("% x\n", EncodeRow(nil, version, parseValues(t, d.Input)))
		case "decode-row":
			version, vals, err := DecodeRow(parseHex(t, d.Input))
			if err != nil {
				return fmt.Sprintf("error: %v\n", err)
			}
			var out strings.Builder
			fmt.Fprintf(&out, "version %d\n", version)
			for _, v := range vals {
				fmt.Fprintf(&out, "%s\n", formatValue(v))
			}
			return out.String()
		}
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	})
}

func parseHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func parseValues(t *testing.T, input string) []types.Value {
	t.Helper()
	var vals []types.Value
	for _, line := range strings.Split(input, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		v, err := parseValue(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		vals = append(vals, v)
	}
	return vals
}

func parseValue(s string) (types.Value, error) {
	if s == "NULL" {
		return types.NullValue, nil
	}
	kind, arg, _ := strings.Cut(s, " ")
	switch kind {
	case "int":
		i, err := strconv.ParseInt(arg, 10, 64)
		return types.NewInt(i), err
	case "float":
		f, err := strconv.ParseFloat(arg, 64)
		return types.NewFloat(f), err
	case "bool":
		b, err := strconv.ParseBool(arg)
		return types.NewBool(b), err
	case "string":
		str, err := strconv.Unquote(arg)
		return types.NewString(str), err
	case "oid":
		return types.ParseOID(arg)
	}
	return types.Value{}, fmt.Errorf("unknown value kind %q", kind)
}

func formatValue(v types.Value) string {
	switch v.Kind {
	case types.Null:
		return "NULL"
	case types.Int64:
		return "int " + strconv.FormatInt(v.Int, 10)
	case types.Float64:
		return "float " + types.FormatFloat(v.Float)
	case types.Bool:
		return "bool " + strconv.FormatBool(v.Bool)
	case types.String:
		return "string " + strconv.Quote(v.Str)
	case types.OID:
		return "oid " + v.OIDHex()
	}
	return fmt.Sprintf("Kind(%d)", v.Kind)
}
