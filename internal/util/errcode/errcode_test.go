package errcode

import "testing"

// The memory codes of issue 9: out_of_memory on pgwire; the node's budget
// is a retry-later 503, the statement's own a 400. A transaction's writes
// over txn_max_write_bytes are a program limit, as a command over
// raft_max_command_bytes.
func TestMemoryCodes(t *testing.T) {
	for _, c := range []struct {
		code   Code
		status int
		state  string
	}{
		{NodeMemoryExhausted, 503, "53200"},
		{QueryMemoryExceeded, 400, "53200"},
		{TempStorageFailed, 500, "58030"},
		{CommandTooLarge, 400, "54000"},
		{TxnTooLarge, 400, "54000"},
	} {
		if got := HTTPStatus(c.code); got != c.status {
			t.Errorf("HTTPStatus(%s) = %d, want %d", c.code, got, c.status)
		}
		if got := SQLState(c.code); got != c.state {
			t.Errorf("SQLState(%s) = %s, want %s", c.code, got, c.state)
		}
		if c.code.Retryable() {
			t.Errorf("%s is retryable", c.code)
		}
	}
}
