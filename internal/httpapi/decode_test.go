package httpapi

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// decodeBodies are request bodies of every shape the fast decoder meets:
// the ones it takes and the ones it must hand to encoding/json.
var decodeBodies = []string{
	string(benchPointBody),
	string(benchInsertBody),
	`{}`,
	` { "sql" : "SELECT 1" } `,
	`{"sql":"SELECT 1","parameters":{}}`,
	`{"databaseName":"db","sql":"SELECT * FROM t WHERE a = @a AND b = @b","parameters":{"@a":1,"b":"x"}}`,
	`{"sql":"x","parameters":{"a":{"type":5,"floatValue":1.5e3},"b":{"type":5,"floatValue":"NaN"},"c":{"type":4,"boolValue":true}}}`,
	`{"sql":"x","parameters":{"a":{"type":1,"strValue":"303132333435363738396162"},"b":{"type":0},"c":null,"d":true,"e":-0.5,"f":12345678901234567890}}`,
	`{"sql":"x","parameters":{"a":{"type":7,"strValue":"2024-01-02"},"b":{"type":2,"longValue":-9}}}`,
	`{"sql":"line1\nline2 \"quoted\" \\ \/ \t","rowFormat":"array","standardConformingStrings":true,"timeoutMs":1500}`,
	`{"sql":"x","txnIdPT":1700000000000,"txnIdCounter":7}`,
	`{"sql":"x","txnIdPT":0,"txnIdCounter":0}`,
	`{"sql":"ünïcødé ✓","databaseName":"d"}`,
	// The slow path's cases.
	`{"SQL":"x"}`,
	`{"sql":"x","unknown":[1,2,{"a":null}]}`,
	`{"sql":"x","sql":"y"}`,
	`{"sql":null}`,
	`{"sql":"\u0041\ud83d\ude00"}`,
	`{"sql":"bad \ud800 surrogate"}`,
	"{\"sql\":\"invalid \xff utf8\"}",
	`{"sql":"x","parameters":{"a":1,"@a":2}}`,
	`{"sql":"x","parameters":{"a":1,"a":2}}`,
	`{"sql":"x","parameters":{"@":1}}`,
	`{"sql":"x","parameters":{"a":{"type":2}}}`,
	`{"sql":"x","parameters":{"a":{"type":2,"longValue":null}}}`,
	`{"sql":"x","parameters":{"a":{"type":2,"longValue":1.0}}}`,
	`{"sql":"x","parameters":{"a":{"type":99,"longValue":1}}}`,
	`{"sql":"x","parameters":{"a":{"type":5,"floatValue":"Inf"}}}`,
	`{"sql":"x","parameters":{"a":[1]}}`,
	`{"sql":"x","timeoutMs":1e3}`,
	`{"sql":"x","timeoutMs":99999999999999999999}`,
	`{"sql":"x","txnIdPT":"1"}`,
	`{"sql":"x","rowFormat":"array"} trailing`,
	`{"sql":"x",}`,
	`{"sql":"x"`,
	`[]`,
	`{"sql":"x","standardConformingStrings":tru}`,
}

// TestScanSQLRequestMatchesEncodingJSON: whatever the fast path accepts,
// encoding/json decodes to the same request; what it refuses still
// decodes (or fails) exactly as before.
func TestScanSQLRequestMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, body := range decodeBodies {
		if checkScanMatchesJSON(t, []byte(body)) {
			fast++
		}
	}
	if fast < 13 {
		t.Fatalf("the fast path took %d of the bodies it should take", fast)
	}
}

// TestScanSQLRequestTakesClientBodies: the Go client's bodies (the bench's
// point select and insert) take the fast path.
func TestScanSQLRequestTakesClientBodies(t *testing.T) {
	for _, body := range [][]byte{benchPointBody, benchInsertBody} {
		var req sqlRequest
		if !scanSQLRequest(body, &req) {
			t.Fatalf("fast path refused %s", body)
		}
	}
}

func FuzzDecodeSQLRequest(f *testing.F) {
	for _, body := range decodeBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScanMatchesJSON(t, body)
	})
}

// checkScanMatchesJSON reports whether the fast path took body, failing t
// when it decoded it differently from encoding/json.
func checkScanMatchesJSON(t *testing.T, body []byte) bool {
	t.Helper()
	var fastReq sqlRequest
	if !scanSQLRequest(body, &fastReq) {
		return false
	}
	var slowReq sqlRequest
	if err := unmarshalBody(body, &slowReq); err != nil {
		t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
	}
	fastOut, fastErr := fastReq.sessionRequest()
	slowOut, slowErr := slowReq.sessionRequest()
	if (fastErr == nil) != (slowErr == nil) {
		t.Fatalf("%q: fast path error %v, encoding/json error %v", body, fastErr, slowErr)
	}
	if fastErr != nil {
		return true
	}
	if got, want := describeRequest(fastOut, fastReq), describeRequest(slowOut, slowReq); got != want {
		t.Fatalf("%q decodes differently:\nfast: %s\njson: %s", body, got, want)
	}
	return true
}

func describeRequest(r session.Request, req sqlRequest) string {
	txn := "none"
	if r.Txn != nil {
		txn = fmt.Sprintf("%d/%d", r.Txn.PT, r.Txn.Counter)
	}
	s := fmt.Sprintf("db=%q sql=%q std=%v timeout=%v/%q txn=%s rowFormat=%q params:",
		r.Database, r.SQL, r.StandardStrings, r.Timeout, r.TimeoutSetting, txn, req.RowFormat)
	if r.Params == nil {
		return s + " nil"
	}
	for _, name := range slices.Sorted(maps.Keys(r.Params)) {
		s += fmt.Sprintf(" %s=%s", name, describeValue(r.Params[name]))
	}
	return s
}

func describeValue(v types.Value) string {
	if v.Kind == types.Float64 && math.IsNaN(v.Float) {
		return "FLOAT64(NaN)"
	}
	return fmt.Sprintf("%d(%v,%d,%v,%q)", v.Kind, v.Bool, v.Int, v.Float, v.Str)
}
