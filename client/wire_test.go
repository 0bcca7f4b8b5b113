package client

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func decodeQuery(t *testing.T, body string) *Result {
	t.Helper()
	var resp response
	if err := decodeResponse(200, []byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.toResult()
}

func TestDecodeResultShapes(t *testing.T) {
	// Object rows (a server ignoring rowFormat) come back in column order.
	res := decodeQuery(t, `{"status":"ok","total":1,"columns":[{"name":"b","type":"STRING"},{"name":"a","type":"int64"}],
		"rows":[{"a":{"type":2,"strValue":null,"longValue":9,"floatValue":0,"boolValue":false},
		         "b":{"type":3,"strValue":"x","longValue":0,"floatValue":0,"boolValue":false}}]}`)
	if !reflect.DeepEqual(res.Rows, [][]any{{"x", int64(9)}}) || res.Columns[0].Type != KindString || res.Columns[1].Type != KindInt64 {
		t.Fatalf("object rows: %+v", res)
	}

	// rows as a number is an affected-row count.
	res = decodeQuery(t, `{"status":"ok","rows":3}`)
	if !res.HasRowsAffected || res.RowsAffected != 3 || res.Rows != nil || len(res.Columns) != 0 {
		t.Fatalf("affected: %+v", res)
	}

	// DDL: nothing to show.
	res = decodeQuery(t, `{"status":"ok","total":0,"columns":[],"rows":[]}`)
	if res.HasRowsAffected || len(res.Columns) != 0 || len(res.Rows) != 0 || res.Txn != nil {
		t.Fatalf("ddl: %+v", res)
	}

	// BEGIN.
	res = decodeQuery(t, `{"status":"ok","txnIdPT":1700000000123,"txnIdCounter":7,"columns":[],"rows":[]}`)
	if res.Txn == nil || res.Txn.PT != 1700000000123 || res.Txn.Counter != 7 {
		t.Fatalf("begin: %+v", res)
	}

	// A query returning no rows keeps its columns.
	res = decodeQuery(t, `{"status":"ok","total":0,"columns":[{"name":"a","type":2}],"rows":[ ]}`)
	if len(res.Columns) != 1 || res.Rows == nil || len(res.Rows) != 0 {
		t.Fatalf("empty: %+v", res)
	}
}

func TestDecodeRejectsMalformedRows(t *testing.T) {
	for _, body := range []string{
		`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[[]]}`,
		`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[{"b":{"type":2}}]}`,
		`{"status":"ok","columns":[{"name":"a","type":2}],"rows":"x"}`,
		`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[[{"type":"x"}]]}`,
	} {
		var resp response
		if err := decodeResponse(200, []byte(body), &resp); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
	if err := decodeResponse(200, []byte(`not json`), nil); err == nil {
		t.Error("malformed 200 accepted")
	}
	if err := decodeResponse(200, []byte(`{"status":"failed","code":"CADB0400","message":"m"}`), nil); err == nil {
		t.Error("failed status with 200 accepted")
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x1f\n\r\t", "é€😀", "bad\xffutf8\xc3", "</script>&"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b\\c\n\x00é\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	})
}

func TestSQLRequestIsValidJSON(t *testing.T) {
	buf, err := appendSQLRequest(nil, &sqlRequest{
		database: "d", sql: "SELECT @a", params: map[string]any{"a": 1, "b": "x"},
		txn: &Txn{PT: 5, Counter: 6}, rowArray: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf, &got); err != nil {
		t.Fatalf("%s: %v", buf, err)
	}
	want := map[string]any{
		"databaseName": "d", "sql": "SELECT @a", "txnIdPT": 5.0, "txnIdCounter": 6.0, "rowFormat": "array",
		"parameters": map[string]any{
			"a": map[string]any{"type": 2.0, "longValue": 1.0},
			"b": map[string]any{"type": 3.0, "strValue": "x"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// refDecode decodes an array-format body with encoding/json: the reference
// the hand-written decoder must agree with.
func refDecode(t *testing.T, body []byte) [][]any {
	t.Helper()
	var ref struct {
		Rows [][]struct {
			Type       int     `json:"type"`
			StrValue   *string `json:"strValue"`
			LongValue  int64   `json:"longValue"`
			FloatValue float64 `json:"floatValue"`
			BoolValue  bool    `json:"boolValue"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		t.Fatalf("reference decode: %v", err)
	}
	out := [][]any{}
	for _, row := range ref.Rows {
		var vals []any
		for _, v := range row {
			switch Kind(v.Type) {
			case KindNull:
				vals = append(vals, nil)
			case KindInt64:
				vals = append(vals, v.LongValue)
			case KindFloat64:
				vals = append(vals, v.FloatValue)
			case KindBool:
				vals = append(vals, v.BoolValue)
			default:
				s := ""
				if v.StrValue != nil {
					s = *v.StrValue
				}
				vals = append(vals, s)
			}
		}
		out = append(out, vals)
	}
	return out
}

func TestDecoderAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "plain", "q\"b\\s/", "tab\tnl\n", "é€😀", "\u2028\u2029", "<&>", "\x00\x1f"}
	for iter := 0; iter < 200; iter++ {
		ncols := 1 + rng.IntN(5)
		cols := make([]map[string]any, ncols)
		kinds := make([]int, ncols)
		for j := range cols {
			kinds[j] = 1 + rng.IntN(5)
			cols[j] = map[string]any{"name": fmt.Sprintf("c%d", j), "type": kinds[j]}
		}
		var rows [][]map[string]any
		for r := rng.IntN(4); r > 0; r-- {
			var row []map[string]any
			for j := 0; j < ncols; j++ {
				v := map[string]any{"type": kinds[j], "strValue": nil, "longValue": 0, "floatValue": 0.0, "boolValue": false}
				switch {
				case rng.IntN(5) == 0:
					v["type"] = 0
				case kinds[j] == 2:
					v["longValue"] = rng.Int64() - rng.Int64()
				case kinds[j] == 5:
					v["floatValue"] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(600)-300))
				case kinds[j] == 4:
					v["boolValue"] = rng.IntN(2) == 0
				default:
					v["strValue"] = strs[rng.IntN(len(strs))] + strs[rng.IntN(len(strs))]
				}
				row = append(row, v)
			}
			rows = append(rows, row)
		}
		body := map[string]any{"status": "ok", "total": len(rows), "columns": cols, "rows": rows, "extra": []any{map[string]any{"x": nil}}}
		var raw []byte
		var err error
		if iter%2 == 0 {
			raw, err = json.Marshal(body)
		} else {
			raw, err = json.MarshalIndent(body, " ", "\t")
		}
		if err != nil {
			t.Fatal(err)
		}
		res := decodeQuery(t, string(raw))
		want := refDecode(t, raw)
		got := res.Rows
		if got == nil {
			got = [][]any{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("body %s\ngot  %#v\nwant %#v", raw, got, want)
		}
	}
}

func TestDecoderEscapes(t *testing.T) {
	body := `{"status":"ok","columns":[{"name":"a\u00e9","type":3}],"rows":[[{"type":3,"strValue":"\ud83d\ude00 \/ \" \\ \b\f\n\r\t \u0041 \ud800x"}]]}`
	res := decodeQuery(t, body)
	if res.Columns[0].Name != "aé" {
		t.Fatalf("name = %q", res.Columns[0].Name)
	}
	if got, want := res.Rows[0][0], "😀 / \" \\ \b\f\n\r\t A \ufffdx"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[[{"type":2,"longValue":1}]]}`))
	f.Add([]byte(`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[{"a":{"type":3,"strValue":"\u00e9"}}]}`))
	f.Add([]byte(`{"status":"failed","code":"CADB0400","message":"x"}`))
	f.Add([]byte(`{"status":"ok","rows":12}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp response
		if err := resp.parse(body); err != nil {
			return
		}
		res := resp.toResult()
		for _, row := range res.Rows {
			if len(row) != len(res.Columns) {
				t.Fatalf("row width %d for %d columns", len(row), len(res.Columns))
			}
		}
	})
}

func TestDecoderBoundsNesting(t *testing.T) {
	body := `{"status":"ok","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	var resp response
	if err := resp.parse([]byte(body)); err == nil {
		t.Fatal("deep nesting accepted")
	}
}

func TestDecodeKindAndServerExtras(t *testing.T) {
	res := decodeQuery(t, `{"status":"ok","kind":"affected","rowsAffected":3,"total":0,"columns":[],"rows":[]}`)
	if res.Kind != ResultAffected || res.RowsAffected != 3 || !res.HasRowsAffected {
		t.Fatalf("affected: %+v", res)
	}
	res = decodeQuery(t, `{"status":"ok","kind":"ddl","databaseName":"shop","total":0,"columns":[],"rows":[]}`)
	if res.Kind != ResultDDL || res.Database != "shop" {
		t.Fatalf("use: %+v", res)
	}
	res = decodeQuery(t, `{"status":"ok","kind":"rows","total":3,"columns":[{"name":"f","type":5}],"rows":[
		[{"type":5,"strValue":null,"longValue":0,"floatValue":"NaN","boolValue":false}],
		[{"type":5,"strValue":null,"longValue":0,"floatValue":"Infinity","boolValue":false}],
		[{"type":5,"strValue":null,"longValue":0,"floatValue":"-Infinity","boolValue":false}]]}`)
	if f := res.Rows[0][0].(float64); !math.IsNaN(f) || res.Rows[1][0] != math.Inf(1) || res.Rows[2][0] != math.Inf(-1) {
		t.Fatalf("non-finite: %v", res.Rows)
	}
	// Inferred kinds.
	for body, want := range map[string]string{
		`{"status":"ok","columns":[{"name":"a","type":2}],"rows":[]}`: ResultRows,
		`{"status":"ok","rows":2}`:                                    ResultAffected,
		`{"status":"ok","txnIdPT":1,"txnIdCounter":2}`:                ResultBegin,
		`{"status":"ok"}`:                                             ResultDDL,
	} {
		if got := decodeQuery(t, body).Kind; got != want {
			t.Errorf("%s: kind %q, want %q", body, got, want)
		}
	}
}
