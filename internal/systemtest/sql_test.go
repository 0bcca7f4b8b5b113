package systemtest

import (
	"net/http"
	"strings"
	"testing"
)

var tutorial = []string{
	`CREATE TABLE robots (id OID PRIMARY KEY NOT NULL, name STRING NOT NULL, type STRING, year INT64 DEFAULT (2024), active BOOL DEFAULT true)`,
	`INSERT INTO robots (id, name, type, year) VALUES (GEN_ID(), "R2-D2", "Astromech", 1977)`,
	`INSERT INTO robots (id, name, type, year) VALUES (GEN_ID(), 'C-3PO', 'Protocol', 1977), (GEN_ID(), 'BB-8', 'Astromech', DEFAULT), (GEN_ID(), 'K-2SO', 'Security', 2016)`,
}

// TestTutorialHTTP is the tutorial flow over the HTTP API.
func TestTutorialHTTP(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "shop", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "shop", tutorial[0]); err != nil {
		t.Fatal(err)
	}
	for _, s := range tutorial[1:] {
		if _, err := c.Exec(ctx, "shop", s, nil, nil); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	expectRows(t, c, "shop", `SELECT name, year, active FROM robots ORDER BY name`,
		"BB-8|2024|true", "C-3PO|1977|true", "K-2SO|2016|true", "R2-D2|1977|true")
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE type ILIKE 'astro%' ORDER BY name`, "BB-8", "R2-D2")
	expectRows(t, c, "shop", `SELECT COUNT(*), MIN(year), MAX(year) FROM robots`, "4|1977|2024")
	expectRows(t, c, "shop", `SELECT type, COUNT(*) AS n FROM robots GROUP BY type ORDER BY type`,
		"Astromech|2", "Protocol|1", "Security|1")
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE year > 2000 ORDER BY year DESC LIMIT 1`, "BB-8")
	if err := c.ExecDDL(ctx, "shop", `CREATE INDEX year_idx ON robots (year)`); err != nil {
		t.Fatal(err)
	}
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE year = 1977 ORDER BY name`, "C-3PO", "R2-D2")
	if n, err := c.Exec(ctx, "shop", `UPDATE robots SET year = 1980 WHERE name = 'R2-D2'`, nil, nil); err != nil || n != 1 {
		t.Fatalf("update: %d %v", n, err)
	}
	if n, err := c.Exec(ctx, "shop", `DELETE FROM robots WHERE name = @name`, map[string]any{"name": "K-2SO"}, nil); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	_, err := c.Exec(ctx, "shop", `UPDATE robots SET year = 1`, nil, nil)
	expectCode(t, err, "CADB0400")
	_, err = c.Exec(ctx, "shop", `DELETE FROM robots`, nil, nil)
	expectCode(t, err, "CADB0400")
	expectRows(t, c, "shop", `SELECT name, year FROM robots ORDER BY name`, "BB-8|2024", "C-3PO|1977", "R2-D2|1980")
	// The index follows the update and the delete.
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE year = 1977`, "C-3PO")
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE year = 1980`, "R2-D2")
	expectRows(t, c, "shop", `SELECT name FROM robots WHERE year = 2016`)
	n.stop()
}

// TestTutorialCLI is the same flow through camus-cli -e/-f/stdin.
func TestTutorialCLI(t *testing.T) {
	n := startNode(t, t.TempDir())
	if out, errOut, code := n.cli("", "-e", "CREATE DATABASE shop"); code != 0 {
		t.Fatalf("create db: %d %s %s", code, out, errOut)
	}
	script := strings.Join(tutorial, ";\n") + ";\n" +
		"CREATE INDEX year_idx ON robots (year);\n" +
		"UPDATE robots SET year = 1980 WHERE name = 'R2-D2';\n" +
		"SELECT name, year FROM robots WHERE year >= 1977 ORDER BY name;\n"
	out, errOut, code := n.cli(script, "shop")
	if code != 0 {
		t.Fatalf("script failed (%d): %s\n%s", code, out, errOut)
	}
	for _, want := range []string{"BB-8", "2024", "C-3PO", "R2-D2", "1980", "4 rows"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	// Stops at the first error with exit code 1.
	out, errOut, code = n.cli("", "shop", "-e", "UPDATE robots SET year = 1; SELECT 1")
	if code != 1 || !strings.Contains(errOut, "CADB0400") {
		t.Fatalf("want exit 1 with CADB0400, got %d: %s / %s", code, out, errOut)
	}
}

// TestStatementAtomicity: the 3rd row of a multi-row INSERT violates a
// UNIQUE constraint, so none of the rows is written.
func TestStatementAtomicity(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := n.client()
	ctx := ctxT(t)
	_ = c.CreateDB(ctx, "db", false)
	if err := c.ExecDDL(ctx, "db", `CREATE TABLE users (id INT64 PRIMARY KEY, email STRING UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "db", `INSERT INTO users VALUES (1, 'a@x')`, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "db", `INSERT INTO users VALUES (2, 'b@x'), (3, 'c@x'), (4, 'a@x')`, nil, nil)
	expectCode(t, err, "CADB0300")
	expectRows(t, c, "db", `SELECT id, email FROM users ORDER BY id`, "1|a@x")
	_, err = c.Exec(ctx, "db", `INSERT INTO users VALUES (5, 'e@x'), (1, 'dup-pk@x')`, nil, nil)
	expectCode(t, err, "CADB0300")
	_, err = c.Exec(ctx, "db", `INSERT INTO users (email) VALUES ('no-pk@x')`, nil, nil)
	if err == nil {
		t.Fatal("NULL primary key accepted")
	}
	expectRows(t, c, "db", `SELECT COUNT(*) FROM users`, "1")
}

// TestWriteSkewHTTP: the on-call scenario with two explicit transactions;
// exactly one commits. With 4 partitions the table's rows and its unique
// index live in different partitions, so both commits are two-phase.
func TestWriteSkewHTTP(t *testing.T) {
	for _, partitions := range []string{"1", "4"} {
		t.Run("partitions="+partitions, func(t *testing.T) { writeSkew(t, partitions) })
	}
}

func writeSkew(t *testing.T, partitions string) {
	n := startNode(t, t.TempDir(), "--initial-cluster-partitions", partitions)
	c := n.client()
	ctx := ctxT(t)
	_ = c.CreateDB(ctx, "db", false)
	if err := c.ExecDDL(ctx, "db", `CREATE TABLE doctors (name STRING PRIMARY KEY, on_call BOOL NOT NULL, badge INT64 UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "db", `INSERT INTO doctors VALUES ('alice', true, 1), ('bob', true, 2)`, nil, nil); err != nil {
		t.Fatal(err)
	}
	t1, err := c.Begin(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	t2, err := c.Begin(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range []*clientTxn{{t1, "alice"}, {t2, "bob"}} {
		res, err := c.Query(ctx, "db", `SELECT COUNT(*) FROM doctors WHERE on_call = true`, nil, tx.txn)
		if err != nil || rowsOf(res)[0] != "2" {
			t.Fatalf("txn %d count: %v %v", i, res, err)
		}
		if _, err := c.Exec(ctx, "db", `UPDATE doctors SET on_call = false, badge = badge + 10 WHERE name = @n`, map[string]any{"n": tx.name}, tx.txn); err != nil {
			t.Fatal(err)
		}
	}
	e1 := c.Commit(ctx, t1)
	e2 := c.Commit(ctx, t2)
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("exactly one must commit: %v / %v", e1, e2)
	}
	failed := e1
	if failed == nil {
		failed = e2
	}
	expectCode(t, failed, "CADB0502")
	expectRows(t, c, "db", `SELECT COUNT(*) FROM doctors WHERE on_call = true`, "1")
}

// TestErrorsKeepServing: bad input gets the right code and status, and the
// server keeps serving.
func TestErrorsKeepServing(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := n.client()
	ctx := ctxT(t)
	_ = c.CreateDB(ctx, "db", false)
	post := func(path, body string) (int, string) {
		resp, err := http.Post(n.url()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := new(strings.Builder)
		_, _ = ioCopy(buf, resp)
		return resp.StatusCode, buf.String()
	}
	cases := []struct {
		path, body string
		status     int
		code       string
	}{
		{"/execute-sql-query", `{"databaseName": "db", "sql": `, 400, "CADB0400"},
		{"/execute-sql-query", `{"databaseName": 5, "sql": "SELECT 1"}`, 400, "CADB0400"},
		{"/execute-sql-query", `{"databaseName": "nope", "sql": "SELECT * FROM t"}`, 404, "CADB0010"},
		{"/execute-sql-query", `{"databaseName": "db", "sql": "SELECT * FROM missing"}`, 404, "CADB0011"},
		{"/execute-sql-query", `{"databaseName": "db", "sql": "SELEC 1"}`, 400, "CADB0406"},
		{"/create-db", `{"databaseName": "db"}`, 400, "CADB0012"},
	}
	for _, tc := range cases {
		status, body := post(tc.path, tc.body)
		if status != tc.status || !strings.Contains(body, `"`+tc.code+`"`) || !strings.Contains(body, `"failed"`) {
			t.Fatalf("%s %s: got %d %s, want %d %s", tc.path, tc.body, status, body, tc.status, tc.code)
		}
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
	expectRows(t, c, "db", `SELECT 1 + 2`, "3")
}
