package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// dumpBinOnce builds camus-dump next to the binaries the harness builds
// (the harness builds only camusdb and camus-cli).
var dumpBinOnce = sync.OnceValue(func() error {
	cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "camus-dump"), "./cmd/camus-dump")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building camus-dump: %v\n%s", err, out)
	}
	return nil
})

// dump runs camus-dump against the node and returns stdout, stderr, exit code.
func (n *node) dump(args ...string) (string, string, int) {
	n.t.Helper()
	if err := dumpBinOnce(); err != nil {
		n.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "camus-dump"), append([]string{"--url", n.url()}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// dumpExactRows renders rows exactly (floats by their bits).
func dumpExactRows(t *testing.T, c *client.Client, db, sql string) string {
	t.Helper()
	res, err := c.Query(ctxT(t), db, sql, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var sb strings.Builder
	for _, row := range res.Rows {
		for _, v := range row {
			if f, ok := v.(float64); ok {
				fmt.Fprintf(&sb, "f%016x|", math.Float64bits(f))
			} else {
				fmt.Fprintf(&sb, "%T:%q|", v, fmt.Sprint(v))
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func TestDumpRestoreEveryTypeWithTheRealBinaries(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"), "--initial-cluster-partitions", "4")
	c := n.client()
	script := `CREATE DATABASE src;
CREATE DATABASE dst;
USE src;
CREATE TABLE things (id OID PRIMARY KEY, s STRING, i INT64, f FLOAT64, b BOOL, UNIQUE KEY s_uk (s));
CREATE INDEX f_idx ON things (f DESC);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f601234567"), 'quote '' "dq" back\\slash', -9223372036854775808, -0.0, true);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f601234568"), 'line1\nline2\r\ttab', 9223372036854775807, 1e300, false);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f601234569"), 'ünï ✓ 日本語 🙂', 0, 0.1, NULL);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f60123456a"), NULL, NULL, NULL, NULL);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f60123456b"), '', 1, CAST('NaN' AS FLOAT64), true);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f60123456c"), 'inf', 2, CAST('-Infinity' AS FLOAT64), false);
INSERT INTO things VALUES (STR_ID("65f0a1b2c3d4e5f60123456d"), 'tiny', 3, 5e-324, false);
CREATE TABLE log (msg STRING, n INT64);
INSERT INTO log VALUES ('dup', 1), ('dup', 1), (NULL, NULL);
`
	if out, errOut, code := n.cli(script); code != 0 {
		t.Fatalf("setup: %d\n%s\n%s", code, out, errOut)
	}
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("('r%d', %d)", i, i*3-100))
	}
	if _, err := c.Exec(ctxT(t), "src", "INSERT INTO log VALUES "+strings.Join(many, ", "), nil, nil); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "src.sql")
	if out, errOut, code := n.dump("src", "-o", path); code != 0 || out != "" {
		t.Fatalf("camus-dump: %d %q\n%s", code, out, errOut)
	}
	if out, errOut, code := n.cli("", "dst", "-f", path); code != 0 {
		t.Fatalf("restore: %d\n%s\n%s", code, out, errOut)
	}
	for _, q := range []string{
		"SELECT * FROM things ORDER BY id",
		"SELECT msg, n FROM log ORDER BY n, msg",
		"SELECT COUNT(*) FROM log",
		"SHOW CREATE TABLE things",
		"SHOW CREATE TABLE log",
	} {
		if src, dst := dumpExactRows(t, c, "src", q), dumpExactRows(t, c, "dst", q); src != dst {
			t.Errorf("%s differs:\nsrc %s\ndst %s", q, src, dst)
		}
	}
	// The restored indexes work: a unique violation is still one.
	_, err := c.Exec(ctxT(t), "dst", "INSERT INTO things (id, s) VALUES (GEN_ID(), 'tiny')", nil, nil)
	expectCode(t, err, client.CodeUniqueViolation)

	// Exit codes: an unknown table fails, an unreachable server is 2.
	if _, _, code := n.dump("src", "--table", "nope"); code != 1 {
		t.Errorf("unknown table: exit %d", code)
	}
	cmd := exec.Command(filepath.Join(binDir, "camus-dump"), "--url", "http://127.0.0.1:1")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("unreachable: %v", err)
	}
}

var dumpBalanceRow = regexp.MustCompile(`\((\d+), (-?\d+)\)`)

// TestDumpIsConsistentUnderConcurrentTransfers dumps a bank while transfers
// run: every dump, restored or not, holds the unchanged total, which it
// could not if tables or pages were read at different moments.
func TestDumpIsConsistentUnderConcurrentTransfers(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"), "--initial-cluster-partitions", "4")
	c := n.client()
	const accounts, initial = 300, 1000
	if err := c.CreateDB(ctxT(t), "bank", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctxT(t), "bank", "CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64 NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for i := range accounts {
		rows = append(rows, fmt.Sprintf("(%d, %d)", i, initial))
	}
	if _, err := c.Exec(ctxT(t), "bank", "INSERT INTO accounts VALUES "+strings.Join(rows, ", "), nil, nil); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(ctxT(t))
	var writers sync.WaitGroup
	var committed sync.Map
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; ctx.Err() == nil; i++ {
				from, to := (i*7+w*31)%accounts, (i*13+w*17+1)%accounts
				if from == to {
					continue
				}
				_, err := c.RunTxn(ctx, "bank", 50, func(ctx context.Context, txn *client.Txn) error {
					// Move money in two separate writes: a dump reading between
					// them outside a snapshot would see a wrong total.
					if _, err := c.Exec(ctx, "bank", "UPDATE accounts SET balance = balance - 7 WHERE id = @id", map[string]any{"id": from}, txn); err != nil {
						return err
					}
					_, err := c.Exec(ctx, "bank", "UPDATE accounts SET balance = balance + 7 WHERE id = @id", map[string]any{"id": to}, txn)
					return err
				})
				if err == nil {
					committed.Store(w, i)
				}
			}
		}()
	}
	defer func() { cancel(); writers.Wait() }()

	waitCommitted := func(want int) {
		testutil.SucceedsSoon(t, 30*time.Second, func() error {
			count := 0
			committed.Range(func(_, _ any) bool { count++; return true })
			if count < want {
				return fmt.Errorf("only %d of %d transfers committed", count, want)
			}
			return nil
		})
	}
	waitCommitted(2)
	for round := range 3 {
		out, errOut, code := n.dump("bank", "--data-only")
		if code != 0 {
			t.Fatalf("dump %d: %d %s", round, code, errOut)
		}
		total, seen := int64(0), 0
		for _, m := range dumpBalanceRow.FindAllStringSubmatch(out, -1) {
			b, _ := strconv.ParseInt(m[2], 10, 64)
			total += b
			seen++
		}
		if seen != accounts || total != accounts*initial {
			t.Fatalf("dump %d: %d accounts, total %d; want %d, %d", round, seen, total, accounts, accounts*initial)
		}
	}
	cancel()
	writers.Wait()

	// A dump taken after the writers stopped restores to the same total.
	path := filepath.Join(t.TempDir(), "bank.sql")
	if _, errOut, code := n.dump("bank", "-o", path); code != 0 {
		t.Fatal(errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte("CREATE TABLE accounts")) {
		t.Fatalf("dump file: %v", err)
	}
	if _, errOut, code := n.cli("CREATE DATABASE copy;\n"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := n.cli("", "copy", "-f", path); code != 0 {
		t.Fatal(errOut)
	}
	expectRows(t, c, "copy", "SELECT COUNT(*), SUM(balance) FROM accounts", fmt.Sprintf("%d|%d", accounts, accounts*initial))
}
