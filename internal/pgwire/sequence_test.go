package pgwire

import (
	"testing"
)

// TestSequencesOverPgwire: a connection is a session for currval and
// lastval; SERIAL and identity columns fill their values with the
// extended protocol (pgx) and RETURNING; the sequence errors carry
// PostgreSQL's SQLSTATEs.
func TestSequencesOverPgwire(t *testing.T) {
	_, ts := memServer(t)
	ctx := testCtx(t)
	a, b := ts.connect(t, "test"), ts.connect(t, "test")
	mustExec(t, a, "CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT)")
	mustExec(t, a, "CREATE TABLE ids (id BIGINT GENERATED ALWAYS AS IDENTITY, v TEXT)")
	mustExec(t, a, "CREATE SEQUENCE small AS SMALLINT MAXVALUE 2")

	var id int64
	if err := a.QueryRow(ctx, "INSERT INTO items (name) VALUES ($1) RETURNING id", "x").Scan(&id); err != nil || id != 1 {
		t.Fatalf("INSERT ... RETURNING id: %d %v", id, err)
	}
	if err := b.QueryRow(ctx, "INSERT INTO items (name) VALUES ($1) RETURNING id", "y").Scan(&id); err != nil || id != 2 {
		t.Fatalf("second insert: %d %v", id, err)
	}
	// Each connection sees its own nextval.
	var cur, last int64
	if err := a.QueryRow(ctx, "SELECT currval('items_id_seq'), lastval()").Scan(&cur, &last); err != nil || cur != 1 || last != 1 {
		t.Fatalf("connection a: currval %d lastval %d %v, want 1 1", cur, last, err)
	}
	if err := b.QueryRow(ctx, "SELECT currval($1)", "items_id_seq").Scan(&cur); err != nil || cur != 2 {
		t.Fatalf("connection b: currval %d %v, want 2", cur, err)
	}
	c := ts.connect(t, "test")
	for _, tc := range []struct{ sql, state string }{
		{"SELECT currval('items_id_seq')", "55000"},
		{"SELECT lastval()", "55000"},
		{"INSERT INTO ids (id, v) VALUES (1, 'a')", "428C9"},
		{"SELECT nextval('small'), nextval('small'), nextval('small')", "2200H"},
		{"SELECT nextval('nope')", "42P01"},
		{"SELECT nextval('items')", "42809"},
		{"CREATE SEQUENCE bad INCREMENT 0", "22023"},
		{"SELECT setval('small', 3)", "22003"},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if got := pgCode(err); got != tc.state {
			t.Errorf("%s: SQLSTATE %q (%v), want %q", tc.sql, got, err, tc.state)
		}
	}
	mustExec(t, c, "INSERT INTO ids (id, v) OVERRIDING SYSTEM VALUE VALUES (7, 'a')")
	var n int64
	if err := c.QueryRow(ctx, "INSERT INTO ids (v) VALUES ('b') RETURNING id").Scan(&n); err != nil || n != 1 {
		t.Fatalf("identity: %d %v", n, err)
	}
}
