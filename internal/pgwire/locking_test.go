package pgwire

import (
	"testing"
)

// TestSelectForUpdate: the rows a SELECT ... FOR UPDATE returns join the
// transaction's write set, so a writer that commits the same row first
// makes it fail at COMMIT (40001); without FOR UPDATE the read-only
// transaction commits.
func TestSelectForUpdate(t *testing.T) {
	_, ts := memServer(t)
	a, b := ts.connect(t, "test"), ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, a, "CREATE TABLE acct (id INT64 PRIMARY KEY, balance INT64)")
	mustExec(t, a, "INSERT INTO acct VALUES (1, 100), (2, 100)")
	for _, lock := range []string{"", " FOR UPDATE"} {
		mustExec(t, a, "BEGIN")
		var bal int
		if err := a.QueryRow(ctx, "SELECT balance FROM acct WHERE id = 1"+lock).Scan(&bal); err != nil {
			t.Fatalf("select%s: %v", lock, err)
		}
		mustExec(t, b, "UPDATE acct SET balance = balance + 1 WHERE id = 1")
		_, err := a.Exec(ctx, "COMMIT")
		switch {
		case lock == "" && err != nil:
			t.Fatalf("plain read-only transaction: %v", err)
		case lock != "" && pgCode(err) != "40001":
			t.Fatalf("FOR UPDATE then a concurrent write: got %v, want 40001", err)
		}
	}
	// A row not touched by the other writer commits fine, and the locked
	// row keeps its value.
	mustExec(t, a, "BEGIN")
	var bal int
	if err := a.QueryRow(ctx, "SELECT balance FROM acct WHERE id = 2 FOR UPDATE").Scan(&bal); err != nil || bal != 100 {
		t.Fatalf("%d %v", bal, err)
	}
	mustExec(t, b, "UPDATE acct SET balance = 0 WHERE id = 1")
	mustExec(t, a, "COMMIT")
	for sql, state := range map[string]string{
		"SELECT * FROM acct FOR UPDATE NOWAIT":      "0A000",
		"SELECT * FROM acct FOR UPDATE SKIP LOCKED": "0A000",
		"SELECT count(*) FROM acct FOR UPDATE":      "0A000",
		"SELECT * FROM acct x, acct y FOR UPDATE":   "0A000",
		"SELECT * FROM acct FOR UPDATE OF nope":     "22023",
	} {
		if _, err := a.Exec(ctx, sql); pgCode(err) != state {
			t.Errorf("%s: %v, want %s", sql, err, state)
		}
	}
	if _, err := a.Exec(ctx, "SELECT * FROM acct WHERE id = 1 FOR SHARE"); err != nil {
		t.Fatal(err)
	}
}
