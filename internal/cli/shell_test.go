package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/client/clienttest"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"go.uber.org/goleak"
)

// checkShellLeaks verifies, after every other cleanup of the test (fake
// servers included), that the test left no goroutine behind. The package's
// TestMain belongs to nobody in particular, so the check is per test.
func checkShellLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// shellRobotsHandler answers like a small server holding a robots table.
func shellRobotsHandler(r clienttest.Request) clienttest.Reply {
	sql := strings.ToUpper(r.SQL)
	switch {
	case strings.HasPrefix(sql, "USE "):
		name := strings.ToLower(strings.Trim(r.SQL[4:], "` "))
		switch name {
		case "nope":
			return clienttest.Fail(errcode.UnknownDatabase, "unknown database nope")
		case "legacy":
			return clienttest.Fail(errcode.Unsupported, "USE is not supported")
		}
		return clienttest.Use(name)
	case strings.HasPrefix(sql, "SELECT"):
		if strings.Contains(sql, "EMPTY") {
			return clienttest.Rows([]clienttest.Col{{Name: "id", Type: 2}})
		}
		return clienttest.Rows(
			[]clienttest.Col{{Name: "id", Type: 2}, {Name: "name", Type: 3}, {Name: "score", Type: 5}, {Name: "ok", Type: 4}},
			[]any{1, "R2-D2", 1.5, true},
			[]any{22, "BB\t8", nil, false},
		)
	case strings.HasPrefix(sql, "INSERT"):
		return clienttest.Affected(2)
	case strings.HasPrefix(sql, "UPDATE") && strings.Contains(sql, "WHERE"):
		return clienttest.Affected(1)
	case strings.HasPrefix(sql, "UPDATE"):
		return clienttest.Fail(errcode.InvalidInput, "UPDATE without WHERE")
	case strings.HasPrefix(sql, "SELEC"):
		return clienttest.Fail(errcode.SyntaxError, "syntax error at line 1, column 1")
	}
	return clienttest.OK()
}

type shellRunResult struct {
	stdout, stderr string
	code           int
}

// runShellCLI executes the camus-cli command with args and stdin, like the binary.
func runShellCLI(t *testing.T, stdin string, args ...string) shellRunResult {
	t.Helper()
	cmd := NewShellCommand()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return shellRunResult{stdout: out.String(), stderr: errOut.String(), code: ShellExitCode(err)}
}

func shellSQLOf(reqs []clienttest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.SQL)
	}
	return out
}

func TestShellExecuteRendersResults(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "", "--url", srv.URL, "-e",
		"CREATE TABLE robots (id INT64); INSERT INTO robots VALUES (1), (2); SELECT id, name, score, ok FROM robots; SELECT id FROM empty")
	if got.code != 0 || got.stderr != "" {
		t.Fatalf("exit %d, stderr %q", got.code, got.stderr)
	}
	want := `Query OK
2 rows affected
+----+---------+-------+-------+
| id | name    | score | ok    |
+----+---------+-------+-------+
|  1 | R2-D2   |   1.5 | true  |
| 22 | BB    8 |  NULL | false |
+----+---------+-------+-------+
2 rows
+----+
| id |
+----+
+----+
0 rows
`
	if got.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got.stdout, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 4 || reqs[0].Database != ShellDefaultDatabase || reqs[2].SQL != "SELECT id, name, score, ok FROM robots" {
		t.Fatalf("requests = %+v", reqs)
	}
}

func TestShellTSVFormat(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "", "--url", srv.URL, "--format", "tsv", "-e", "SELECT * FROM robots")
	want := "id\tname\tscore\tok\n1\tR2-D2\t1.5\ttrue\n22\tBB\\t8\tNULL\tfalse\n"
	if got.code != 0 || got.stdout != want {
		t.Fatalf("exit %d stdout %q stderr %q", got.code, got.stdout, got.stderr)
	}
}

func TestShellStopsAtFirstError(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "", "shop", "--url", srv.URL, "-e", "INSERT INTO t VALUES (1);\nUPDATE robots SET year = 1;\nSELECT 1")
	if got.code != ShellExitFailed {
		t.Fatalf("exit %d, want %d", got.code, ShellExitFailed)
	}
	if got.stdout != "2 rows affected\n" {
		t.Fatalf("stdout %q", got.stdout)
	}
	if got.stderr != "ERROR CADB0400: UPDATE without WHERE\n  at -e:2\n" {
		t.Fatalf("stderr %q", got.stderr)
	}
	if sqls := shellSQLOf(srv.Requests()); !reflect.DeepEqual(sqls, []string{"INSERT INTO t VALUES (1)", "UPDATE robots SET year = 1"}) {
		t.Fatalf("sent %q", sqls)
	}
	if srv.Requests()[0].Database != "shop" {
		t.Fatalf("database %q, want the positional shop", srv.Requests()[0].Database)
	}
}

func TestShellFileAndStdin(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	dir := t.TempDir()
	script := "-- a comment; not a statement\nCREATE TABLE t (s STRING);\n" +
		"INSERT INTO t VALUES ('a;b'), (\"it\\\"s\"), ('don''t');\n/* ; */ SELECT 'x;y' FROM t -- trailing; comment\n"
	path := filepath.Join(dir, "s.sql")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	wantSQL := []string{
		"-- a comment; not a statement\nCREATE TABLE t (s STRING)",
		"INSERT INTO t VALUES ('a;b'), (\"it\\\"s\"), ('don''t')",
		"/* ; */ SELECT 'x;y' FROM t -- trailing; comment",
	}
	got := runShellCLI(t, "", "--url", srv.URL, "-f", path)
	if got.code != 0 {
		t.Fatalf("-f: exit %d: %s", got.code, got.stderr)
	}
	if sqls := shellSQLOf(srv.Requests()); !reflect.DeepEqual(sqls, wantSQL) {
		t.Fatalf("-f sent %q", sqls)
	}

	srv2 := clienttest.NewServer(t, shellRobotsHandler)
	got = runShellCLI(t, script, "--url", srv2.URL)
	if got.code != 0 {
		t.Fatalf("stdin: exit %d: %s", got.code, got.stderr)
	}
	if sqls := shellSQLOf(srv2.Requests()); !reflect.DeepEqual(sqls, wantSQL) {
		t.Fatalf("stdin sent %q", sqls)
	}

	// An error in a file names the file and the statement's first line.
	bad := filepath.Join(dir, "bad.sql")
	if err := os.WriteFile(bad, []byte("CREATE TABLE a (x INT64);\n\nSELEC\n  1;\nCREATE TABLE b (x INT64);\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got = runShellCLI(t, "", "--url", srv2.URL, "-f", bad)
	if got.code != 1 || got.stderr != "ERROR CADB0406: syntax error at line 1, column 1\n  at "+bad+":3\n" {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
}

func TestShellTransactionsCarriedAcrossStatements(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "BEGIN;\nINSERT INTO t VALUES (1);\nUPDATE t SET x = 2 WHERE id = 1;\nCOMMIT;\nINSERT INTO t VALUES (3);\n", "--url", srv.URL)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	if got.stdout != "BEGIN\n2 rows affected\n1 row affected\nCOMMIT\n2 rows affected\n" {
		t.Fatalf("stdout %q", got.stdout)
	}
	reqs := srv.Requests()
	begin := reqs[0]
	if begin.Txn != nil {
		t.Fatalf("BEGIN carried a transaction")
	}
	var txn *clienttest.TxnID
	for i, r := range reqs[1:4] {
		if r.Txn == nil || (txn != nil && *r.Txn != *txn) {
			t.Fatalf("statement %d carried %v", i+1, r.Txn)
		}
		txn = r.Txn
	}
	if reqs[4].Txn != nil {
		t.Fatalf("statement after COMMIT carried %v", reqs[4].Txn)
	}
	if srv.OpenTxns() != 0 {
		t.Fatal("transaction left open")
	}
}

func TestShellScriptEndingInsideTransaction(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "", "--url", srv.URL, "-e", "BEGIN; INSERT INTO t VALUES (1)")
	if got.code != 1 || !strings.Contains(got.stderr, "rolled back") {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	if srv.OpenTxns() != 0 {
		t.Fatal("transaction left open")
	}
	// A failing statement inside a transaction also rolls it back on exit.
	got = runShellCLI(t, "", "--url", srv.URL, "-e", "BEGIN; UPDATE t SET x = 1; COMMIT")
	if got.code != 1 || srv.OpenTxns() != 0 {
		t.Fatalf("exit %d, open %d", got.code, srv.OpenTxns())
	}
	// exit is refused while a transaction is open.
	got = runShellCLI(t, "BEGIN;\nexit\n", "--url", srv.URL)
	if got.code != 1 || !strings.Contains(got.stderr, "transaction is open") || srv.OpenTxns() != 0 {
		t.Fatalf("exit %d stderr %q open %d", got.code, got.stderr, srv.OpenTxns())
	}
	// A second BEGIN is refused client-side.
	got = runShellCLI(t, "", "--url", srv.URL, "-e", "BEGIN; START TRANSACTION")
	if got.code != 1 || !strings.Contains(got.stderr, "already open") || srv.OpenTxns() != 0 {
		t.Fatalf("exit %d stderr %q open %d", got.code, got.stderr, srv.OpenTxns())
	}
}

func TestShellUseAndCommands(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.sql")
	if err := os.WriteFile(inc, []byte("INSERT INTO t VALUES (1);\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "use Shop\nINSERT INTO t VALUES (1);\nsource " + inc + "\nhelp\nclear\nUSE other; INSERT INTO u VALUES (2);\nexit\nINSERT INTO never VALUES (1);\n"
	got := runShellCLI(t, script, "--url", srv.URL)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	if !strings.HasPrefix(got.stdout, "Database changed to shop\n2 rows affected\n2 rows affected\n"+shellHelp+"Database changed to other\n2 rows affected\n") ||
		strings.Contains(got.stdout, "\033") {
		t.Fatalf("stdout %q", got.stdout)
	}
	var dbs []string
	for _, r := range srv.Requests() {
		dbs = append(dbs, r.Database+":"+r.SQL)
	}
	want := []string{"Shop:USE `Shop`", "shop:INSERT INTO t VALUES (1)", "shop:INSERT INTO t VALUES (1)", "other:USE `other`", "other:INSERT INTO u VALUES (2)"}
	if !reflect.DeepEqual(dbs, want) {
		t.Fatalf("requests %q", dbs)
	}

	// An unknown database is reported and stops the script.
	got = runShellCLI(t, "use nope\nSELECT 1;\n", "--url", srv.URL)
	if got.code != 1 || got.stderr != "ERROR CADB0010: unknown database nope\n  at <stdin>:1\n" {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	// A server that does not support USE: the name is taken as given.
	srv2 := clienttest.NewServer(t, shellRobotsHandler)
	got = runShellCLI(t, "use legacy\nINSERT INTO t VALUES (1);\n", "--url", srv2.URL)
	if reqs := srv2.Requests(); got.code != 0 || len(reqs) != 2 || reqs[1].Database != "legacy" {
		t.Fatalf("exit %d stderr %q requests %+v", got.code, got.stderr, reqs)
	}
	// A missing source file too.
	got = runShellCLI(t, "", "--url", srv.URL, "-e", "source "+filepath.Join(dir, "missing.sql"))
	if got.code != 1 || !strings.Contains(got.stderr, "missing.sql") {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
}

func TestShellConnectionFlags(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	// Connection string with a dead endpoint first: skipped.
	got := runShellCLI(t, "", "-c", "Endpoint="+dead+","+srv.URL+";Database=inv", "-e", "INSERT INTO t VALUES (1)")
	if got.code != 0 || srv.Requests()[0].Database != "inv" {
		t.Fatalf("exit %d stderr %q reqs %+v", got.code, got.stderr, srv.Requests())
	}
	// Positional database wins over the connection string's.
	got = runShellCLI(t, "", "pos", "-c", "Endpoint="+srv.URL+";Database=inv", "-e", "INSERT INTO t VALUES (1)")
	if got.code != 0 || srv.Requests()[1].Database != "pos" {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	// Unreachable server: clear message, distinct exit code, nothing run.
	got = runShellCLI(t, "", "--url", dead, "-e", "SELECT 1")
	if got.code != ShellExitUnreachable || !strings.Contains(got.stderr, "cannot reach CamusDB at "+dead) {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	// Bad connection string and bad format are usage errors.
	if got = runShellCLI(t, "", "-c", "Host=x"); got.code != ShellExitFailed || !strings.Contains(got.stderr, "unknown key") {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	if got = runShellCLI(t, "", "--url", srv.URL, "--format", "xml"); got.code != ShellExitFailed {
		t.Fatalf("exit %d stderr %q", got.code, got.stderr)
	}
	if got = runShellCLI(t, "", "a", "b"); got.code != ShellExitFailed {
		t.Fatalf("two positional args: exit %d", got.code)
	}
}

func TestShellTiming(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	got := runShellCLI(t, "", "--url", srv.URL, "--timing", "-e", "CREATE TABLE t (x INT64)")
	if got.code != 0 || !strings.HasPrefix(got.stdout, "Query OK (") || !strings.HasSuffix(got.stdout, " ms)\n") {
		t.Fatalf("stdout %q", got.stdout)
	}
}

// shellScriptedTerminal plays lines (and interrupts/EOFs) to the interactive loop.
type shellScriptedTerminal struct {
	inputs  []any // string, errShellInterrupt or io.EOF
	prompts []string
	history []string
}

func (st *shellScriptedTerminal) ReadLine(prompt string) (string, error) {
	st.prompts = append(st.prompts, prompt)
	if len(st.inputs) == 0 {
		return "", io.EOF
	}
	in := st.inputs[0]
	st.inputs = st.inputs[1:]
	if err, ok := in.(error); ok {
		return "", err
	}
	return in.(string), nil
}

func (st *shellScriptedTerminal) SaveHistory(entry string) { st.history = append(st.history, entry) }

func newShellInteractiveSession(t *testing.T, srv *clienttest.Server) (*shellSession, *bytes.Buffer, *bytes.Buffer) {
	c := client.New([]string{srv.URL})
	t.Cleanup(c.Close)
	var out, errOut bytes.Buffer
	clock := time.Unix(0, 0)
	return &shellSession{
		client: c, database: "test", out: &out, errOut: &errOut, interactive: true, timing: true,
		format: shellFormatTable,
		now:    func() time.Time { clock = clock.Add(1500 * time.Microsecond); return clock },
	}, &out, &errOut
}

func shellNoInterrupt(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}

func TestShellInteractiveLoop(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	s, out, errOut := newShellInteractiveSession(t, srv)
	term := &shellScriptedTerminal{inputs: []any{
		"INSERT INTO t", "VALUES ('a;", "b');", // multi-line with ';' inside a literal
		"SELEC 1;",                          // error: printed, loop continues
		"SELECT id FROM", errShellInterrupt, // Ctrl-C drops the partial statement
		"begin;", "INSERT INTO t VALUES (1);",
		"exit",            // refused: transaction open
		errShellInterrupt, // Ctrl-C rolls back
		"begin;", io.EOF,  // first Ctrl-D refused
		io.EOF, // second rolls back and leaves
	}}
	if err := s.repl(context.Background(), term, shellNoInterrupt); err != nil {
		t.Fatal(err)
	}
	wantPrompts := []string{shellPrompt, shellContinuePrompt, shellContinuePrompt, shellPrompt, shellPrompt, shellContinuePrompt,
		shellPrompt, shellPrompt, shellPrompt, shellPrompt, shellPrompt, shellPrompt, shellPrompt}
	if !reflect.DeepEqual(term.prompts, wantPrompts) {
		t.Fatalf("prompts %q\nwant    %q", term.prompts, wantPrompts)
	}
	wantOut := "2 rows affected (1.500 ms)\n\nBEGIN (1.500 ms)\n\n2 rows affected (1.500 ms)\n\nROLLBACK (interrupted)\nBEGIN (1.500 ms)\n\nROLLBACK\n"
	if out.String() != wantOut {
		t.Fatalf("stdout %q\nwant   %q", out.String(), wantOut)
	}
	if !strings.Contains(errOut.String(), "ERROR CADB0406") || !strings.Contains(errOut.String(), "COMMIT or ROLLBACK it before exiting") ||
		strings.Contains(errOut.String(), "  at <stdin>") {
		t.Fatalf("stderr %q", errOut.String())
	}
	wantHistory := []string{"INSERT INTO t VALUES ('a; b');", "SELEC 1;", "begin;", "INSERT INTO t VALUES (1);", "exit", "begin;"}
	if !reflect.DeepEqual(term.history, wantHistory) {
		t.Fatalf("history %q", term.history)
	}
	if srv.OpenTxns() != 0 {
		t.Fatalf("%d transactions open", srv.OpenTxns())
	}
	sent := shellSQLOf(srv.Requests())
	if sent[0] != "INSERT INTO t\nVALUES ('a;\nb')" {
		t.Fatalf("first statement %q", sent[0])
	}
}

func TestShellInterruptDuringStatementRollsBack(t *testing.T) {
	checkShellLeaks(t)
	srv := clienttest.NewServer(t, shellRobotsHandler)
	s, out, _ := newShellInteractiveSession(t, srv)
	term := &shellScriptedTerminal{inputs: []any{"BEGIN;", "INSERT INTO t VALUES (1);", "exit"}}
	calls := 0
	// The second statement's context is cancelled as if Ctrl-C arrived.
	interrupt := func(ctx context.Context) (context.Context, context.CancelFunc) {
		calls++
		ctx, cancel := context.WithCancel(ctx)
		if calls == 2 {
			cancel()
		}
		return ctx, cancel
	}
	if err := s.repl(context.Background(), term, interrupt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ROLLBACK (interrupted)") || srv.OpenTxns() != 0 || s.txn != nil {
		t.Fatalf("stdout %q open %d", out.String(), srv.OpenTxns())
	}
}

func TestShellSplitStatements(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1;SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{" ; ;; ", nil},
		{"SELECT 'a;b'; SELECT \"c;d\"", []string{"SELECT 'a;b'", "SELECT \"c;d\""}},
		{`SELECT 'it\'s;'; SELECT 2`, []string{`SELECT 'it\'s;'`, "SELECT 2"}},
		{`SELECT 'don''t;'; SELECT 2`, []string{`SELECT 'don''t;'`, "SELECT 2"}},
		{`SELECT "a\\"; SELECT 2`, []string{`SELECT "a\\"`, "SELECT 2"}},
		{`SELECT "say ""hi;"""; SELECT 2`, []string{`SELECT "say ""hi;"""`, "SELECT 2"}},
		{"SELECT `we;ird` FROM t; SELECT 2", []string{"SELECT `we;ird` FROM t", "SELECT 2"}},
		{"SELECT 1 -- c;omment\n; SELECT 2", []string{"SELECT 1 -- c;omment", "SELECT 2"}},
		{"SELECT /* a; */ 1; /* only; a comment */; -- and; this", []string{"SELECT /* a; */ 1"}},
		{"SELECT 1 /* unterminated; ", []string{"SELECT 1 /* unterminated;"}},
		{"SELECT 'unterminated; ", []string{"SELECT 'unterminated;"}},
		{"SELECT 5-3; SELECT 4/2", []string{"SELECT 5-3", "SELECT 4/2"}},
		{"SELECT 'é;€'; SELECT '😀'", []string{"SELECT 'é;€'", "SELECT '😀'"}},
		{"INSERT INTO t VALUES ('a\n;b');\n", []string{"INSERT INTO t VALUES ('a\n;b')"}},
	}
	for _, tc := range cases {
		if got := shellSplitStatements(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Feeding a script in arbitrary pieces gives the same statements as feeding
// it at once (the interactive shell feeds lines; pieces may cut "--", "/*").
func TestShellSplitterIncremental(t *testing.T) {
	script := "SELECT 'a;b' -- x;y\n; /* c;d */ SELECT \"e\\\";f\"; SELECT `g;h`;SELECT 1-2/3;"
	want := shellSplitStatements(script)
	for cut := 0; cut <= len(script); cut++ {
		var sp shellSplitter
		got := append(sp.feed(script[:cut]), sp.feed(script[cut:])...)
		if last, ok := sp.flush(); ok {
			got = append(got, last)
		}
		if !reflect.DeepEqual(got, want) && !shellCutsToken(script, cut) {
			t.Fatalf("cut at %d: %q, want %q", cut, got, want)
		}
	}
}

// shellCutsToken reports whether cut splits a two-byte comment opener or closer,
// which the line-fed shell never does (they cannot span lines).
func shellCutsToken(s string, cut int) bool {
	if cut == 0 || cut >= len(s) {
		return false
	}
	pair := s[cut-1 : cut+1]
	return pair == "--" || pair == "/*" || pair == "*/"
}

func TestShellLeadingKeywords(t *testing.T) {
	for in, want := range map[string][2]string{
		"begin":                              {"BEGIN", ""},
		"  -- c\n/* x */ start  transaction": {"START", "TRANSACTION"},
		"COMMIT;":                            {"COMMIT", ""},
		"(SELECT 1)":                         {"", ""},
		"":                                   {"", ""},
	} {
		first, second := shellLeadingKeywords(in)
		if first != want[0] || second != want[1] {
			t.Errorf("shellLeadingKeywords(%q) = %q %q, want %q", in, first, second, want)
		}
	}
}

func TestParseShellCommand(t *testing.T) {
	for _, tc := range []struct {
		line, name, arg, rest string
		ok                    bool
	}{
		{"use shop\n", "use", "shop", "", true},
		{"USE shop; SELECT 1 -- c\n", "use", "shop", " SELECT 1 -- c\n", true},
		{"exit;\n", "exit", "", "\n", true},
		{"exit\n", "exit", "", "", true},
		{"  quit  ", "exit", "", "", true},
		{`\. my file.sql`, "source", "my file.sql", "", true},
		{"help", "help", "", "", true},
		{"select 1;", "", "", "", false},
		{"user_table", "", "", "", false},
	} {
		name, arg, rest, ok := parseShellCommand(tc.line)
		if name != tc.name || arg != tc.arg || ok != tc.ok || (ok && rest != tc.rest) {
			t.Errorf("parseShellCommand(%q) = %q %q %q %v", tc.line, name, arg, rest, ok)
		}
	}
}

func TestShellExitCode(t *testing.T) {
	if ShellExitCode(nil) != 0 || ShellExitCode(errors.New("x")) != 1 ||
		ShellExitCode(&shellExitError{code: 2, err: errors.New("x")}) != 2 {
		t.Fatal("bad exit codes")
	}
}

func BenchmarkShellSplitter(b *testing.B) {
	line := "INSERT INTO accounts (id, name, note) VALUES (1, 'alice', 'it''s; fine') /* c */ -- x\n"
	script := strings.Repeat(line+";\n", 100)
	b.SetBytes(int64(len(script)))
	b.ReportAllocs()
	for b.Loop() {
		if n := len(shellSplitStatements(script)); n != 100 {
			b.Fatal(n)
		}
	}
}

// The shell's incremental splitter and the parser's SplitStatements must cut
// scripts identically, so a script means the same via camus-cli and the server.
func FuzzShellSplitterMatchesParser(f *testing.F) {
	for _, seed := range []string{
		"SELECT 'a;b'; SELECT \"c\\\";d\"; SELECT `e;f`",
		"-- x;\nSELECT 1 /* ; */; ;; SELECT 'don''t;'",
		"SELECT 'unterminated; SELECT 2",
		"INSERT INTO t VALUES ('\\\\'); SELECT `a\\`; SELECT 1",
		"\x10", "\u00a0;x;\f", // control bytes are content, only ASCII white space is trimmed
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		got := shellSplitStatements(script)
		want := parser.SplitStatements(script)
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("script %q\nshell  %q\nparser %q", script, got, want)
		}
	})
}
