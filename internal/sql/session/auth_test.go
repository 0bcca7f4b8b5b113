package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func execAs(s *session.Server, user, database, sql string) (*session.Result, error) {
	return s.Execute(session.WithUser(context.Background(), user), session.Request{Database: database, SQL: sql})
}

func rowsText(res *session.Result) string {
	var b strings.Builder
	for _, row := range res.Rows {
		for i, v := range row {
			if i > 0 {
				b.WriteByte('|')
			}
			b.WriteString(v.String())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSelectOnlyUser is the acceptance scenario of privileges: a user with
// only SELECT on one table reads it, cannot read another table (directly,
// through a join, a subquery, a CTE or EXPLAIN ANALYZE), cannot write,
// cannot create or drop databases, and sees only that table.
func TestSelectOnlyUser(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{})
	defer s.Close()
	setup(t, s,
		"CREATE TABLE pub (id INT64 PRIMARY KEY, v STRING)",
		"CREATE TABLE secret (id INT64 PRIMARY KEY, v STRING)",
		"INSERT INTO pub VALUES (1, 'a')",
		"INSERT INTO secret VALUES (1, 's')",
		"CREATE USER reader WITH PASSWORD 'pw'",
		"GRANT SELECT ON pub TO reader",
	)
	res, err := execAs(s, "reader", "d", "SELECT v FROM pub")
	if err != nil || rowsText(res) != "a\n" {
		t.Fatalf("reading the granted table: %v %v", res, err)
	}
	denied := []string{
		"SELECT * FROM secret",
		"SELECT * FROM pub JOIN secret ON pub.id = secret.id",
		"SELECT * FROM pub WHERE id IN (SELECT id FROM secret)",
		"SELECT (SELECT v FROM secret WHERE id = 1)",
		"SELECT * FROM (SELECT * FROM secret) x",
		"WITH x AS (SELECT * FROM secret) SELECT * FROM x",
		"SELECT * FROM pub WHERE EXISTS (SELECT 1 FROM secret)",
		"SELECT id FROM pub UNION SELECT id FROM secret",
		"EXPLAIN ANALYZE SELECT * FROM secret",
		"INSERT INTO pub VALUES (2, 'b')",
		"INSERT INTO pub SELECT * FROM secret",
		"UPDATE pub SET v = 'x' WHERE id = 1",
		"DELETE FROM pub WHERE id = 1",
		"DROP TABLE pub",
		"ALTER TABLE pub ADD COLUMN w INT64",
		"CREATE INDEX i ON pub (v)",
		"CREATE TABLE mine (id INT64 PRIMARY KEY)",
		"CREATE DATABASE other",
		"DROP DATABASE d",
		"SHOW COLUMNS FROM secret",
		"CREATE USER x",
		"GRANT SELECT ON secret TO reader",
		"GRANT admin TO reader",
		"SHOW GRANTS FOR root",
	}
	for _, sql := range denied {
		_, err := execAs(s, "reader", "d", sql)
		if errcode.Of(err) != errcode.PermissionDenied {
			t.Errorf("%s: got %v, want CADB0021", sql, err)
		}
	}
	// A CTE named like a table shadows it: no SELECT on secret needed.
	if _, err := execAs(s, "reader", "d", "WITH secret AS (SELECT * FROM pub) SELECT * FROM secret"); err != nil {
		t.Errorf("CTE shadowing a table: %v", err)
	}
	res, err = execAs(s, "reader", "d", "SHOW TABLES")
	if err != nil || rowsText(res) != "pub\n" {
		t.Fatalf("SHOW TABLES as reader: %q %v", rowsText(res), err)
	}
	mustExec(t, s, session.Request{SQL: "CREATE DATABASE hidden"})
	res, err = execAs(s, "reader", "d", "SHOW DATABASES")
	if err != nil || rowsText(res) != "d\n" {
		t.Fatalf("SHOW DATABASES as reader: %q %v", rowsText(res), err)
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SHOW TABLES"})
	if rowsText(res) != "pub\nsecret\n" {
		t.Fatalf("SHOW TABLES as root: %q", rowsText(res))
	}
	res, err = execAs(s, "reader", "d", "SHOW GRANTS")
	if err != nil || rowsText(res) != "reader|d|pub|SELECT\n" {
		t.Fatalf("SHOW GRANTS: %q %v", rowsText(res), err)
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SHOW GRANTS ON TABLE pub"})
	if rowsText(res) != "reader|d|pub|SELECT\n" {
		t.Fatalf("SHOW GRANTS ON TABLE pub: %q", rowsText(res))
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SHOW GRANTS ON secret"})
	if rowsText(res) != "" {
		t.Fatalf("SHOW GRANTS ON secret: %q", rowsText(res))
	}
	// Revoking takes the read away.
	mustExec(t, s, session.Request{Database: "d", SQL: "REVOKE SELECT ON pub FROM reader"})
	if _, err := execAs(s, "reader", "d", "SELECT v FROM pub"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("after REVOKE: %v", err)
	}
}

func TestRolesOwnershipAndUsers(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{})
	defer s.Close()
	setup(t, s,
		"CREATE TABLE t (id INT64 PRIMARY KEY)",
		"CREATE ROLE writers",
		"CREATE USER alice PASSWORD 'a'",
		"CREATE USER bob PASSWORD 'b'",
		"GRANT INSERT, SELECT ON TABLE t TO writers",
		"GRANT writers TO alice",
		"GRANT CREATE ON DATABASE d TO bob",
	)
	if _, err := execAs(s, "alice", "d", "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("insert through a role: %v", err)
	}
	if _, err := execAs(s, "bob", "d", "INSERT INTO t VALUES (2)"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("bob without grant: %v", err)
	}
	// bob creates a table and owns it: he may write, alter, grant and drop it.
	for _, sql := range []string{
		"CREATE TABLE b (id INT64 PRIMARY KEY)",
		"INSERT INTO b VALUES (1)",
		"ALTER TABLE b ADD COLUMN v STRING",
		"GRANT SELECT ON b TO alice",
	} {
		if _, err := execAs(s, "bob", "d", sql); err != nil {
			t.Fatalf("bob: %s: %v", sql, err)
		}
	}
	if _, err := execAs(s, "alice", "d", "SELECT * FROM b"); err != nil {
		t.Fatalf("alice reads bob's grant: %v", err)
	}
	if _, err := execAs(s, "alice", "d", "DROP TABLE b"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("alice drops bob's table: %v", err)
	}
	// CREATE TABLE IF NOT EXISTS of an existing table does not make its
	// user the owner.
	mustExec(t, s, session.Request{Database: "d", SQL: "GRANT CREATE ON DATABASE d TO alice"})
	if _, err := execAs(s, "alice", "d", "CREATE TABLE IF NOT EXISTS b (id INT64 PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := execAs(s, "alice", "d", "DROP TABLE b"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("alice owns bob's table after CREATE TABLE IF NOT EXISTS: %v", err)
	}
	// ALTER USER: self allowed, others not; an admin role member may.
	if _, err := execAs(s, "alice", "", "ALTER USER alice PASSWORD 'new'"); err != nil {
		t.Fatal(err)
	}
	if _, err := execAs(s, "alice", "", "ALTER USER bob PASSWORD 'new'"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("alice alters bob: %v", err)
	}
	mustExec(t, s, session.Request{SQL: "GRANT admin TO alice"})
	if _, err := execAs(s, "alice", "d", "DROP TABLE b"); err != nil {
		t.Fatalf("admin alice drops: %v", err)
	}
	res := mustExec(t, s, session.Request{SQL: "SHOW USERS"})
	want := "admin|NOLOGIN|\nalice|PASSWORD|admin, writers\nbob|PASSWORD|\nroot||\nwriters|NOLOGIN|\n"
	if got := rowsText(res); got != want {
		t.Fatalf("SHOW USERS:\n%s\nwant\n%s", got, want)
	}
	// Errors: unknown grantee, duplicate user, builtins, cycles, roles with passwords.
	for sql, code := range map[string]errcode.Code{
		"GRANT SELECT ON t TO nobody":    errcode.UnknownUser,
		"GRANT SELECT ON nope TO alice":  errcode.UnknownTable,
		"GRANT CREATE ON t TO alice":     errcode.InvalidInput,
		"CREATE USER alice":              errcode.UserExists,
		"DROP USER root":                 errcode.InvalidInput,
		"DROP ROLE admin":                errcode.InvalidInput,
		"DROP USER writers":              errcode.InvalidInput,
		"GRANT alice TO bob":             errcode.InvalidInput,
		"CREATE ROLE r2 PASSWORD 'x'":    errcode.InvalidInput,
		"ALTER USER nobody PASSWORD 'x'": errcode.UnknownUser,
		"ALTER USER bob PASSWORD ''":     errcode.InvalidInput,
	} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		if errcode.Of(err) != code {
			t.Errorf("%s: got %v, want %s", sql, err, code)
		}
	}
	mustExec(t, s, session.Request{SQL: "CREATE ROLE outer_role"})
	mustExec(t, s, session.Request{SQL: "GRANT writers TO outer_role"})
	if _, err := s.Execute(context.Background(), session.Request{SQL: "GRANT outer_role TO writers"}); errcode.Of(err) != errcode.InvalidInput {
		t.Fatalf("cycle: %v", err)
	}
	mustExec(t, s, session.Request{SQL: "DROP ROLE writers"})
	if _, err := execAs(s, "bob", "d", "SELECT * FROM t"); errcode.Of(err) != errcode.PermissionDenied {
		t.Fatalf("after dropping the role: %v", err)
	}
	mustExec(t, s, session.Request{SQL: "DROP USER bob"})
	if _, err := s.Execute(context.Background(), session.Request{SQL: "DROP USER bob"}); errcode.Of(err) != errcode.UnknownUser {
		t.Fatalf("drop twice: %v", err)
	}
}

func TestExplicitTxnBelongsToItsUser(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{})
	defer s.Close()
	setup(t, s, "CREATE USER alice PASSWORD 'a'")
	h, err := s.Begin(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	alice := session.WithUser(context.Background(), "alice")
	if _, err := s.Execute(alice, session.Request{Database: "d", SQL: "SELECT 1", Txn: &h}); errcode.Of(err) != errcode.TxnClosed {
		t.Fatalf("alice uses root's transaction: %v", err)
	}
	if err := s.Rollback(alice, h); errcode.Of(err) != errcode.TxnClosed {
		t.Fatalf("alice rolls back root's transaction: %v", err)
	}
	if err := s.Rollback(context.Background(), h); err != nil {
		t.Fatal(err)
	}
}

// A password that is a SCRAM verifier is stored as given (PostgreSQL does
// the same), so the original password logs in and is never sent.
func TestVerifierAsPassword(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, session.Config{})
	defer s.Close()
	v, err := privilege.NewVerifier("original")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, session.Request{SQL: "CREATE USER bob WITH PASSWORD '" + v.String() + "'"})
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txn.Rollback(ctx) }()
	u, err := privilege.GetUser(ctx, txn, "bob")
	if err != nil || u.Verifier != v.String() {
		t.Fatalf("stored %v %v", u, err)
	}
	stored, _ := privilege.ParseVerifier(u.Verifier)
	if !stored.CheckPassword("original") {
		t.Fatal("the original password does not match")
	}
}
