package client

import (
	"encoding/json"
	"reflect"
	"testing"
)

func decodeQuery(t *testing.T, body string) *Result {
	t.Helper()
	var resp response
	if err := decodeResponse(200, []byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	res, err := resp.toResult()
	if err != nil {
		t.Fatal(err)
	}
	return res
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
		if err := decodeResponse(200, []byte(body), &resp); err != nil {
			continue
		}
		if _, err := resp.toResult(); err == nil {
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
