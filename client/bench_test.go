package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// cannedRows renders an /execute-sql-query body of n rows of (INT64, STRING,
// FLOAT64, BOOL) in the array row format, every field filled as servers do.
func cannedRows(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"status":"ok","total":` + strconv.Itoa(n) + `,"columns":[{"name":"id","type":2},{"name":"name","type":3},{"name":"balance","type":5},{"name":"active","type":4}],"rows":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`[{"type":2,"strValue":null,"longValue":` + strconv.Itoa(i) + `,"floatValue":0,"boolValue":false},`)
		sb.WriteString(`{"type":3,"strValue":"account-` + strconv.Itoa(i) + `","longValue":0,"floatValue":0,"boolValue":false},`)
		sb.WriteString(`{"type":5,"strValue":null,"longValue":0,"floatValue":1234.5,"boolValue":false},`)
		sb.WriteString(`{"type":4,"strValue":null,"longValue":0,"floatValue":0,"boolValue":true}]`)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkDecodeRows100(b *testing.B) {
	body := cannedRows(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var resp response
		if err := decodeResponse(200, body, &resp); err != nil {
			b.Fatal(err)
		}
		_ = resp.toResult()
	}
}

func BenchmarkAppendSQLRequest(b *testing.B) {
	req := &sqlRequest{
		database: "bank", sql: "UPDATE accounts SET balance = balance + @amount WHERE id = @id",
		params: map[string]any{"amount": 10, "id": 42}, txn: &Txn{PT: 1700000000000, Counter: 9}, rowArray: true,
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = appendSQLRequest(buf[:0], req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryRoundTrip measures the client's whole per-statement cost
// against a server that answers a canned one-row body.
func BenchmarkQueryRoundTrip(b *testing.B) {
	body := cannedRows(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := New([]string{srv.URL})
	defer c.Close()
	ctx := context.Background()
	params := map[string]any{"id": 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Query(ctx, "bank", "SELECT id, name, balance, active FROM accounts WHERE id = @id", params, nil); err != nil {
			b.Fatal(err)
		}
	}
}
