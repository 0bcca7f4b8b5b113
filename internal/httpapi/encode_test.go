package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f",
		"héllo wörld ✓ 🚀", "\u2028\u2029", "bad \xff utf8 \xc3", "<script>&</script>",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		out := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: not valid JSON: %v", s, out, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); !utf8.ValidString(s) {
			// encoding/json and we both replace each invalid byte with U+FFFD;
			// compare with its decoding of its own encoding.
			ref, _ := json.Marshal(s)
			var refBack string
			_ = json.Unmarshal(ref, &refBack)
			if back != refBack {
				t.Fatalf("%q: decoded %q, encoding/json gives %q (%q)", s, back, refBack, want)
			}
		} else if back != s {
			t.Fatalf("%q: round trip gave %q", s, back)
		}
	}
}

func TestAppendJSONFloat(t *testing.T) {
	cases := []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64, 1e300, 2.5e-300}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		cases = append(cases, math.Float64frombits(rng.Uint64()))
	}
	for _, f := range cases {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		got := appendJSONFloat(nil, f)
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("float %v: got %s, encoding/json %s", f, got, want)
		}
		var back float64
		if err := json.Unmarshal(got, &back); err != nil || math.Float64bits(back) != math.Float64bits(f) && f != 0 {
			t.Fatalf("float %v does not round-trip: %s -> %v (%v)", f, got, back, err)
		}
	}
	for f, want := range map[float64]string{math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`, math.NaN(): `"NaN"`} {
		if got := string(appendJSONFloat(nil, f)); got != want {
			t.Errorf("%v: got %s want %s", f, got, want)
		}
	}
}

// A value encoded in a response decodes, as a request value, to itself.
func TestValueRoundTrip(t *testing.T) {
	oid := mustOID(t, oidHex)
	values := []types.Value{
		types.NullValue, oid, types.NewInt(0), types.NewInt(math.MinInt64), types.NewInt(math.MaxInt64),
		types.NewString(""), types.NewString("a \"b\" \\ \n ✓"), types.NewBool(true), types.NewBool(false),
		types.NewFloat(0), types.NewFloat(-1.25e-300), types.NewFloat(math.Inf(1)), types.NewFloat(math.Inf(-1)),
	}
	for _, v := range values {
		var buf jsonBuf
		buf.value(v)
		var fields map[string]any
		if err := json.Unmarshal(buf.b, &fields); err != nil {
			t.Fatalf("%v: %s is not JSON: %v", v, buf.b, err)
		}
		if len(fields) != 5 {
			t.Fatalf("%v: %s does not have all five fields", v, buf.b)
		}
		var back wireValue
		if err := json.Unmarshal(buf.b, &back); err != nil {
			t.Fatalf("%v: decoding %s: %v", v, buf.b, err)
		}
		if back.Value != v {
			t.Fatalf("round trip %#v -> %s -> %#v", v, buf.b, back.Value)
		}
	}
	var buf jsonBuf
	buf.value(types.NewFloat(math.NaN()))
	var back wireValue
	if err := json.Unmarshal(buf.b, &back); err != nil || back.Kind != types.Float64 || !math.IsNaN(back.Float) {
		t.Fatalf("NaN round trip: %s -> %#v (%v)", buf.b, back.Value, err)
	}
}

// The whole response is valid JSON even for hostile names and strings.
func TestQueryResultIsValidJSON(t *testing.T) {
	res := &session.Result{
		Kind:    session.ResultRows,
		Columns: []session.Column{{Name: "a\"b", Type: types.String}, {Name: "\xff", Type: types.Int64}},
		Rows: [][]types.Value{
			{types.NewString("\x00\"\\"), types.NewInt(1)},
			{types.NewString("x"), types.NewInt(2), types.NewBool(true)}, // longer than the columns
		},
	}
	for _, format := range []string{rowFormatObject, rowFormatArray} {
		var buf jsonBuf
		buf.queryResult(res, format)
		var out map[string]any
		if err := json.Unmarshal(buf.b, &out); err != nil {
			t.Fatalf("%s: %s: %v", format, buf.b, err)
		}
		if out["total"] != float64(2) {
			t.Fatalf("%s: total %v", format, out["total"])
		}
	}
}

func pointSelectResult() *session.Result {
	var raw [types.OIDLen]byte
	copy(raw[:], "0123456789ab")
	return &session.Result{
		Kind: session.ResultRows,
		Columns: []session.Column{
			{Name: "id", Type: types.OID}, {Name: "name", Type: types.String}, {Name: "year", Type: types.Int64},
			{Name: "score", Type: types.Float64}, {Name: "active", Type: types.Bool},
		},
		Rows: [][]types.Value{{types.NewOID(raw), types.NewString("R2-D2"), types.NewInt(1977), types.NewFloat(9.75), types.NewBool(true)}},
	}
}

func manyRowsResult(n int) *session.Result {
	res := pointSelectResult()
	row := res.Rows[0]
	res.Rows = make([][]types.Value, n)
	for i := range res.Rows {
		res.Rows[i] = row
	}
	return res
}

// reflectEncode is what encoding/json would cost for the same response.
func reflectEncode(res *session.Result) ([]byte, error) {
	type jsonValue struct {
		Type       int     `json:"type"`
		StrValue   *string `json:"strValue"`
		LongValue  int64   `json:"longValue"`
		FloatValue float64 `json:"floatValue"`
		BoolValue  bool    `json:"boolValue"`
	}
	type jsonCol struct {
		Name string `json:"name"`
		Type int    `json:"type"`
	}
	cols := make([]jsonCol, len(res.Columns))
	for i, c := range res.Columns {
		cols[i] = jsonCol{c.Name, int(c.Type)}
	}
	rows := make([]map[string]jsonValue, len(res.Rows))
	for r, row := range res.Rows {
		m := make(map[string]jsonValue, len(row))
		for i, v := range row {
			jv := jsonValue{Type: int(v.Kind), LongValue: v.Int, FloatValue: v.Float, BoolValue: v.Bool}
			if v.Kind == types.String || v.Kind == types.OID {
				s := v.String()
				jv.StrValue = &s
			}
			m[res.Columns[i].Name] = jv
		}
		rows[r] = m
	}
	return json.Marshal(map[string]any{"status": "ok", "total": len(rows), "columns": cols, "rows": rows})
}

func BenchmarkEncodePointSelect(b *testing.B) {
	res := pointSelectResult()
	b.Run("handrolled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := getBuf()
			buf.queryResult(res, rowFormatObject)
			buf.release()
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reflectEncode(res); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode1000Rows(b *testing.B) {
	res := manyRowsResult(1000)
	b.Run("handrolled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := getBuf()
			buf.queryResult(res, rowFormatObject)
			b.SetBytes(int64(len(buf.b)))
			buf.release()
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := reflectEncode(res)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
		}
	})
}

// BenchmarkPointSelectRequest is a whole /execute-sql-query round through
// the handler (decode, executor call, encode) without the network.
func BenchmarkPointSelectRequest(b *testing.B) {
	res := pointSelectResult()
	exec := &fakeExec{execute: func(context.Context, session.Request) (*session.Result, error) { return res, nil }}
	api, err := New(Options{Executor: exec})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"databaseName":"db","sql":"SELECT * FROM robots WHERE id = @id","parameters":{"@id":{"type":1,"strValue":"303132333435363738396162"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		exec.requests = exec.requests[:0]
		req := httptest.NewRequest(http.MethodPost, "/execute-sql-query", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
