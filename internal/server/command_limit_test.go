package server

import (
	"fmt"
	"strings"
	"testing"
)

// With raft_max_command_bytes at 64 KiB, a one-statement INSERT of about
// 1 MiB commits (its writes are chunked under the limit), and a row over
// the limit is refused with CADB0513 / 400 naming the setting, writing
// nothing.
func TestNodeChunksWritesUnderCommandLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.RaftMaxCommandBytes = MinRaftMaxCommandBytes
	tn := startTableNode(t, startTestNode(t, cfg))
	post := tn.post
	count := func() any { return tn.count("") }
	const n = 1000
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, '%s')", i, strings.Repeat("v", 1000))
	}
	if status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES `+strings.Join(values, ", ")+`"}`); status != 200 {
		t.Fatalf("1 MiB insert under a 64 KiB command limit: %d %v", status, body)
	}
	if got := count(); got != float64(n) {
		t.Fatalf("rows after the large insert: %v", got)
	}
	status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES (-1, 'x'), (-2, '`+strings.Repeat("w", 100<<10)+`')"}`)
	if status != 400 || body["code"] != "CADB0513" || !strings.Contains(fmt.Sprint(body["message"]), "raft_max_command_bytes") {
		t.Fatalf("a 100 KiB row: %d %v", status, body)
	}
	if got := count(); got != float64(n) {
		t.Fatalf("rows after the refused insert: %v", got)
	}
}
