package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/client/clienttest"
	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestDumpAppendValue(t *testing.T) {
	for _, tc := range []struct {
		kind client.Kind
		v    any
		want string
	}{
		{client.KindNull, nil, "NULL"},
		{client.KindInt64, nil, "NULL"},
		{client.KindInt64, int64(math.MinInt64), "-9223372036854775808"},
		{client.KindInt64, int64(math.MaxInt64), "9223372036854775807"},
		{client.KindFloat64, 1.5, "1.5"},
		{client.KindFloat64, 3.0, "3.0"},
		{client.KindFloat64, int64(3), "3.0"},
		{client.KindFloat64, math.Copysign(0, -1), "-0.0"},
		{client.KindFloat64, 1e300, "1e+300"},
		{client.KindFloat64, 5e-324, "5e-324"},
		{client.KindFloat64, 0.1, "0.1"},
		{client.KindFloat64, math.NaN(), "CAST('NaN' AS FLOAT64)"},
		{client.KindFloat64, math.Inf(1), "CAST('Infinity' AS FLOAT64)"},
		{client.KindFloat64, math.Inf(-1), "CAST('-Infinity' AS FLOAT64)"},
		{client.KindBool, true, "true"},
		{client.KindBool, false, "false"},
		{client.KindString, "", "''"},
		{client.KindString, "it's", "'it''s'"},
		{client.KindString, `a\b"c`, `'a\\b"c'`},
		{client.KindString, "l1\nl2\r\t\x00end", `'l1\nl2\r\t\0end'`},
		{client.KindString, "ünï ✓ \x01", "'ünï ✓ \x01'"},
		{client.KindString, "-- not a comment; /* nor this */", "'-- not a comment; /* nor this */'"},
		{client.KindOID, "0123456789abcdef01234567", `STR_ID("0123456789abcdef01234567")`},
	} {
		got, err := dumpAppendValue(nil, tc.kind, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s %#v: got %s (%v), want %s", tc.kind, tc.v, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		kind client.Kind
		v    any
	}{
		{client.KindOID, "0123456789ABCDEF01234567"},
		{client.KindOID, "0123"},
		{client.KindOID, `0123456789abcdef0123456")`},
		{client.KindInt64, []byte("x")},
	} {
		if got, err := dumpAppendValue(nil, bad.kind, bad.v); err == nil {
			t.Errorf("%s %#v: got %s, want an error", bad.kind, bad.v, got)
		}
	}
}

func TestDumpFloatLiteralsRoundTrip(t *testing.T) {
	// The shortest 'g' form re-parses to the same bits (what the server's
	// lexer does with a float literal is strconv.ParseFloat).
	for _, f := range []float64{0.1, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, -2.5e-308, 123456789012345678, 1e21, 1e-7} {
		lit := string(dumpAppendFloat(nil, f))
		var back float64
		if _, err := fmt.Sscan(lit, &back); err != nil || math.Float64bits(back) != math.Float64bits(f) {
			t.Errorf("%v: literal %s reads back as %v (%v)", f, lit, back, err)
		}
	}
}

func TestDumpQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{
		"robots": "robots", "_x1": "_x1", "select": "`select`", "all": "`all`",
		"1abc": "`1abc`", "has space": "`has space`", "a`b": "`a``b`", "Mixed": "`Mixed`",
	} {
		if got := dumpQuoteIdent(in); got != want {
			t.Errorf("dumpQuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDumpInsertWriterBatches(t *testing.T) {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	iw := newDumpInsertWriter(w, "t", []client.Column{{Name: "id", Type: client.KindInt64}, {Name: "order", Type: client.KindString}}, 2, 1<<20)
	for i := range 5 {
		if err := iw.add([]any{int64(i), "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := iw.flush(); err != nil {
		t.Fatal(err)
	}
	if err := iw.add([]any{int64(1)}); err == nil {
		t.Fatal("a row with too few values was accepted")
	}
	w.Flush()
	want := "INSERT INTO t (id, `order`) VALUES\n(0, 'x'),\n(1, 'x');\n" +
		"INSERT INTO t (id, `order`) VALUES\n(2, 'x'),\n(3, 'x');\n" +
		"INSERT INTO t (id, `order`) VALUES\n(4, 'x');\n"
	if !strings.HasPrefix(out.String(), want) {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}

	// The byte bound closes a statement early.
	out.Reset()
	w.Reset(&out)
	iw = newDumpInsertWriter(w, "t", []client.Column{{Name: "s", Type: client.KindString}}, 100, 10)
	for range 3 {
		if err := iw.add([]any{strings.Repeat("y", 20)}); err != nil {
			t.Fatal(err)
		}
	}
	iw.flush()
	w.Flush()
	if n := strings.Count(out.String(), "INSERT INTO"); n != 3 {
		t.Fatalf("want 3 statements of one oversized row each, got %d:\n%s", n, out.String())
	}
}

// dumpTestNode starts an in-process standalone node (the real stack) and
// returns its URL and a client.
func dumpTestNode(t *testing.T, partitions int) (string, *client.Client) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTPPort, cfg.RaftPort, cfg.PGPort = 0, 0, 0
	cfg.InitialPartitions = partitions
	node, err := server.NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := node.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	url := "http://" + node.HTTPAddr()
	c := client.New([]string{url})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shellWaitReady(ctx, c, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return url, c
}

func dumpExec(t *testing.T, c *client.Client, db string, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Query(context.Background(), db, s, nil, nil); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// dumpRows renders every row of a query exactly: floats by their bits, so
// -0.0, NaN and the last digit of a double all count.
func dumpRows(t *testing.T, c *client.Client, db, sql string) []string {
	t.Helper()
	res, err := c.Query(context.Background(), db, sql, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		var sb strings.Builder
		for j, v := range row {
			if j > 0 {
				sb.WriteString(" | ")
			}
			switch v := v.(type) {
			case float64:
				fmt.Fprintf(&sb, "f%016x", math.Float64bits(v))
			default:
				fmt.Fprintf(&sb, "%T:%q", v, fmt.Sprint(v))
			}
		}
		out[i] = sb.String()
	}
	return out
}

// dumpEdgeSchema fills db with every type, edge values, paged and unpaged
// tables, and names that need quoting.
func dumpEdgeSchema(t *testing.T, c *client.Client, db string) {
	t.Helper()
	dumpExec(t, c, "", "CREATE DATABASE "+db)
	dumpExec(t, c, db,
		"CREATE TABLE edge (id OID PRIMARY KEY, s STRING, i INT64 DEFAULT 7, f FLOAT64, b BOOL, `select` STRING, UNIQUE KEY s_uk (s))",
		"CREATE INDEX f_idx ON edge (f DESC, i)",
		`INSERT INTO edge (id, s, i, f, b) VALUES (STR_ID("0123456789abcdef01234567"), 'it''s \\ "q" \n x', -9223372036854775808, -0.0, true)`,
		`INSERT INTO edge (id, s, i, f, b) VALUES (STR_ID("0123456789abcdef01234568"), 'ünï ✓ 日本', 9223372036854775807, 1e300, false)`,
		`INSERT INTO edge (id, s, i, f, b) VALUES (STR_ID("0123456789abcdef01234569"), NULL, NULL, CAST('NaN' AS FLOAT64), NULL)`,
		`INSERT INTO edge (id, s, f) VALUES (STR_ID("0123456789abcdef0123456a"), 'tab	cr`+"\r"+`', CAST('Infinity' AS FLOAT64))`,
		`INSERT INTO edge (id, s, f) VALUES (STR_ID("0123456789abcdef0123456b"), '', CAST('-Infinity' AS FLOAT64))`,
		`INSERT INTO edge (id, s, f, `+"`select`"+`) VALUES (STR_ID("0123456789abcdef0123456c"), 'semi; -- dash /* c */', 5e-324, 'kw')`,
		`INSERT INTO edge (id, f) VALUES (STR_ID("0123456789abcdef0123456d"), 0.1)`,
		`INSERT INTO edge (id, f) VALUES (STR_ID("0123456789abcdef0123456e"), 0.30000000000000004)`,
		// No primary key: a hidden row id, duplicates allowed.
		"CREATE TABLE nopk (a INT64, b STRING)",
		"INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (NULL, NULL)",
		// Composite and DESC keys, an empty table, a reserved table name.
		"CREATE TABLE readings (sensor INT64 NOT NULL, ts INT64 NOT NULL, v FLOAT64) PRIMARY KEY (sensor ASC, ts DESC)",
		"INSERT INTO readings VALUES (1, 10, 0.5), (1, 20, 1.5), (2, 5, -2.25)",
		"CREATE TABLE down (k INT64 NOT NULL, v STRING, PRIMARY KEY (k DESC))",
		"CREATE TABLE empty (k STRING PRIMARY KEY)",
		"CREATE TABLE `order` (k STRING PRIMARY KEY, n INT64)",
	)
	// Enough rows to span several pages of a small PageRows.
	var keys, down []string
	for i := range 23 {
		keys = append(keys, fmt.Sprintf("('k%02d', %d)", i, i*i))
		down = append(down, fmt.Sprintf("(%d, 'v%d')", i-11, i))
	}
	dumpExec(t, c, db,
		"INSERT INTO `order` VALUES "+strings.Join(keys, ", "),
		"INSERT INTO down VALUES "+strings.Join(down, ", "))
}

var dumpEdgeQueries = []string{
	"SELECT * FROM edge ORDER BY id",
	"SELECT a, b FROM nopk ORDER BY a, b",
	"SELECT COUNT(*) FROM nopk",
	"SELECT * FROM readings",
	"SELECT * FROM down",
	"SELECT * FROM empty",
	"SELECT * FROM `order`",
	"SHOW CREATE TABLE edge",
	"SHOW INDEXES FROM edge",
	"SHOW CREATE TABLE readings",
	"SHOW CREATE TABLE down",
	"SHOW CREATE TABLE `order`",
	"SHOW TABLES",
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	checkShellLeaks(t)
	url, c := dumpTestNode(t, 4)
	dumpEdgeSchema(t, c, "src")
	// A view whose name sorts before its table: views are dumped last.
	dumpExec(t, c, "src", "CREATE VIEW aaa_view (big) AS SELECT i FROM edge WHERE i > 0")

	path := filepath.Join(t.TempDir(), "src.sql")
	var stderr bytes.Buffer
	err := RunDump(context.Background(), DumpOptions{
		Endpoints: []string{url}, Database: "src", Output: path, Stderr: &stderr,
		PageRows: 4, BatchRows: 3,
	})
	if err != nil {
		t.Fatalf("dump: %v\n%s", err, stderr.String())
	}
	dump, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{"CREATE DATABASE", "USE ", "src"} {
		if bytes.Contains(dump, []byte(forbidden)) {
			t.Errorf("the dump names a database (%q):\n%s", forbidden, dump)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left next to the dump: %v", entries)
	}

	dumpExec(t, c, "", "CREATE DATABASE dst")
	stderr.Reset()
	if err := RunShell(context.Background(), ShellOptions{
		Endpoints: []string{url}, Database: "dst", Files: []string{path},
		Stdin: strings.NewReader(""), Stdout: new(bytes.Buffer), Stderr: &stderr,
	}); err != nil {
		t.Fatalf("restore: %v\n%s\ndump:\n%s", err, stderr.String(), dump)
	}
	for _, q := range append(dumpEdgeQueries, "SELECT big FROM aaa_view ORDER BY big") {
		src, dst := dumpRows(t, c, "src", q), dumpRows(t, c, "dst", q)
		if strings.Join(src, "\n") != strings.Join(dst, "\n") {
			t.Errorf("%s differs after restore:\nsource  %q\nrestored %q", q, src, dst)
		}
	}

	// Dumping the restored copy gives the same text: nothing drifted.
	var again bytes.Buffer
	if err := RunDump(context.Background(), DumpOptions{
		Endpoints: []string{url}, Database: "dst", Stdout: &again, Stderr: &stderr, PageRows: 4, BatchRows: 3,
	}); err != nil {
		t.Fatal(err)
	}
	if again.String() != string(dump) {
		t.Errorf("dump of the restored database differs:\n%s\nvs\n%s", again.String(), dump)
	}
}

func TestDumpSchemaOnlyDataOnlyAndTables(t *testing.T) {
	checkShellLeaks(t)
	url, c := dumpTestNode(t, 1)
	dumpEdgeSchema(t, c, "src")
	run := func(o DumpOptions) string {
		t.Helper()
		var out, stderr bytes.Buffer
		o.Endpoints, o.Database, o.Stdout, o.Stderr = []string{url}, "src", &out, &stderr
		if err := RunDump(context.Background(), o); err != nil {
			t.Fatalf("%+v: %v\n%s", o, err, stderr.String())
		}
		return out.String()
	}
	schema := run(DumpOptions{SchemaOnly: true})
	if strings.Contains(schema, "INSERT") || strings.Count(schema, "CREATE TABLE") != 6 {
		t.Errorf("--schema-only:\n%s", schema)
	}
	data := run(DumpOptions{DataOnly: true, Tables: []string{"NOPK", "readings,nopk"}})
	if strings.Contains(data, "CREATE") || strings.Contains(data, "edge") ||
		strings.Count(data, "INSERT INTO nopk") != 1 || strings.Count(data, "INSERT INTO readings") != 1 {
		t.Errorf("--data-only --table NOPK --table readings,nopk:\n%s", data)
	}

	// Restoring schema then data into a fresh database gives the same rows.
	dir := t.TempDir()
	schemaFile, dataFile := filepath.Join(dir, "schema.sql"), filepath.Join(dir, "data.sql")
	os.WriteFile(schemaFile, []byte(schema), 0o600)
	os.WriteFile(dataFile, []byte(run(DumpOptions{DataOnly: true})), 0o600)
	dumpExec(t, c, "", "CREATE DATABASE dst")
	var stderr bytes.Buffer
	if err := RunShell(context.Background(), ShellOptions{
		Endpoints: []string{url}, Database: "dst", Files: []string{schemaFile, dataFile},
		Stdin: strings.NewReader(""), Stdout: new(bytes.Buffer), Stderr: &stderr,
	}); err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr.String())
	}
	for _, q := range dumpEdgeQueries {
		if src, dst := dumpRows(t, c, "src", q), dumpRows(t, c, "dst", q); strings.Join(src, "\n") != strings.Join(dst, "\n") {
			t.Errorf("%s differs after restore", q)
		}
	}

	// An unknown table fails the dump and leaves no output file.
	path := filepath.Join(dir, "out.sql")
	stderr.Reset()
	err := RunDump(context.Background(), DumpOptions{Endpoints: []string{url}, Database: "src", Tables: []string{"nope"}, Output: path, Stderr: &stderr})
	if DumpExitCode(err) != ShellExitFailed || !strings.Contains(stderr.String(), string(errcode.UnknownTable)) {
		t.Fatalf("unknown table: %v, stderr %q", err, stderr.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed dump left %s (%v)", path, err)
	}
}

// TestDumpRetriesAConflictFromTheStart checks that a retryable error
// mid-snapshot restarts the whole snapshot in a new transaction and that the
// output holds exactly one complete copy.
func TestDumpRetriesAConflictFromTheStart(t *testing.T) {
	checkShellLeaks(t)
	var selects atomic.Int32
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		if r.Txn == nil {
			return clienttest.Fail(errcode.InvalidInput, "dump statement outside its transaction: "+r.SQL)
		}
		switch {
		case r.SQL == "SHOW TABLES":
			return clienttest.Rows([]clienttest.Col{{Name: "table", Type: 3}}, []any{"a"}, []any{"b"})
		case strings.HasPrefix(r.SQL, "SHOW CREATE TABLE "):
			name := strings.TrimPrefix(r.SQL, "SHOW CREATE TABLE ")
			return clienttest.Rows([]clienttest.Col{{Name: "table", Type: 3}, {Name: "create_table", Type: 3}},
				[]any{name, "CREATE TABLE " + name + " (x INT64)"})
		case strings.HasPrefix(r.SQL, "SHOW INDEXES"):
			return clienttest.Rows([]clienttest.Col{{Name: "table", Type: 3}, {Name: "index", Type: 3}, {Name: "unique", Type: 4}, {Name: "columns", Type: 3}, {Name: "state", Type: 3}})
		case strings.HasPrefix(r.SQL, "SELECT * FROM b"):
			if selects.Add(1) == 1 {
				return clienttest.Fail(errcode.TxnConflict, "conflict")
			}
			fallthrough
		case strings.HasPrefix(r.SQL, "SELECT * FROM "):
			return clienttest.Rows([]clienttest.Col{{Name: "x", Type: 2}}, []any{1}, []any{nil})
		}
		return clienttest.Fail(errcode.SyntaxError, "unexpected "+r.SQL)
	})
	var out, stderr bytes.Buffer
	if err := RunDump(context.Background(), DumpOptions{Endpoints: []string{srv.URL}, Database: "db", Stdout: &out, Stderr: &stderr}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if got := strings.Count(out.String(), "CREATE TABLE a "); got != 1 {
		t.Fatalf("want one copy of the dump, got %d:\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "INSERT INTO b (x) VALUES\n(1),\n(NULL);\n") {
		t.Fatalf("rows of b missing:\n%s", out.String())
	}
	if selects.Load() != 2 || srv.OpenTxns() != 0 {
		t.Fatalf("selects of b %d, open transactions %d", selects.Load(), srv.OpenTxns())
	}
	begins := 0
	for _, r := range srv.Requests() {
		if r.SQL == "BEGIN" {
			begins++
		}
	}
	if begins != 2 {
		t.Fatalf("want 2 snapshot transactions, got %d", begins)
	}
}

func TestDumpUnreachableAndBadFlags(t *testing.T) {
	checkShellLeaks(t)
	var stderr bytes.Buffer
	err := RunDump(context.Background(), DumpOptions{Endpoints: []string{"http://127.0.0.1:1"}, Stderr: &stderr})
	if DumpExitCode(err) != ShellExitUnreachable || !strings.Contains(stderr.String(), "cannot reach") {
		t.Fatalf("unreachable: %v %q", err, stderr.String())
	}
	cmd := NewDumpCommand()
	cmd.SetArgs([]string{"--schema-only", "--data-only", "--url", "http://127.0.0.1:1"})
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	if err := cmd.Execute(); DumpExitCode(err) != ShellExitFailed {
		t.Fatalf("--schema-only with --data-only: %v", err)
	}
}

func BenchmarkDumpInsertWriter(b *testing.B) {
	cols := []client.Column{{Name: "id", Type: client.KindOID}, {Name: "name", Type: client.KindString},
		{Name: "n", Type: client.KindInt64}, {Name: "f", Type: client.KindFloat64}, {Name: "ok", Type: client.KindBool}}
	row := []any{"0123456789abcdef01234567", "R2-D2 'astromech'", int64(1977), 3.14159, true}
	w := bufio.NewWriter(discardWriter{})
	iw := newDumpInsertWriter(w, "robots", cols, DumpDefaultBatchRows, DumpDefaultBatchBytes)
	b.ReportAllocs()
	for b.Loop() {
		if err := iw.add(row); err != nil {
			b.Fatal(err)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
