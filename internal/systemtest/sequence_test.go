package systemtest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSequenceValuesNeverReusedAcrossKill9: clients call nextval on a
// sequence without cache and on one with CACHE 20 while the server is
// killed with SIGKILL; after the restart nextval goes on, and no value
// any client was ever handed (before or after the kill) is handed out
// twice. Values cached but not handed out before the kill are skipped.
func TestSequenceValuesNeverReusedAcrossKill9(t *testing.T) {
	n := startNode(t, t.TempDir(), "--initial-cluster-partitions", "2")
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "db", false); err != nil {
		t.Fatal(err)
	}
	for _, ddl := range []string{"CREATE SEQUENCE plain", "CREATE SEQUENCE cached CACHE 20"} {
		if err := c.ExecDDL(ctx, "db", ddl); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]map[int64]bool{"plain": {}, "cached": {}}
	take := func(t *testing.T, ctx context.Context, seq string) error {
		res, err := n.client().Query(ctx, "db", fmt.Sprintf("SELECT nextval('%s')", seq), nil, nil)
		if err != nil {
			return err
		}
		v, err := dumpIntOf(res.Rows[0][0])
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[seq][v] {
			t.Errorf("nextval('%s') handed out %d twice", seq, v)
		}
		seen[seq][v] = true
		return nil
	}
	for cycle := 1; cycle <= 2; cycle++ {
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		reached := make(chan struct{})
		var once sync.Once
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				seq := []string{"plain", "cached"}[w%2]
				for i := 0; wctx.Err() == nil; i++ {
					if err := take(t, wctx, seq); err != nil {
						return // the server was killed
					}
					if i == 50 {
						once.Do(func() { close(reached) })
					}
				}
			}(w)
		}
		select {
		case <-reached:
		case <-time.After(60 * time.Second):
		}
		n.kill()
		stop()
		wg.Wait()
		n.start()
		// After the restart: more values, none seen before.
		for i := 0; i < 30; i++ {
			for _, seq := range []string{"plain", "cached"} {
				if err := take(t, ctx, seq); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	n.stop()
	if len(seen["plain"]) < 60 || len(seen["cached"]) < 60 {
		t.Fatalf("too few values taken: %d plain, %d cached", len(seen["plain"]), len(seen["cached"]))
	}
}

// dumpIntOf reads an INT64 result value as the client decodes it.
func dumpIntOf(v any) (int64, error) {
	var x int64
	_, err := fmt.Sscan(fmt.Sprint(v), &x)
	return x, err
}

// TestDumpRestoreSequencesAndSerialColumns: camus-dump writes sequences,
// SERIAL and identity columns so that a restore continues every sequence
// where the source was and keeps the columns' behaviour.
func TestDumpRestoreSequencesAndSerialColumns(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"))
	c := n.client()
	script := `CREATE DATABASE src;
CREATE DATABASE dst;
USE src;
CREATE SEQUENCE free AS INTEGER INCREMENT BY 5 START WITH 100 CACHE 3 CYCLE MAXVALUE 1000;
CREATE SEQUENCE fresh;
SELECT nextval('free'), nextval('free');
CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT);
INSERT INTO items (name) VALUES ('a'), ('b'), ('c');
CREATE TABLE ids (id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 10) PRIMARY KEY, v TEXT);
INSERT INTO ids (v) VALUES ('x'), ('y');
`
	if out, errOut, code := n.cli(script); code != 0 {
		t.Fatalf("setup: %d\n%s\n%s", code, out, errOut)
	}
	path := filepath.Join(t.TempDir(), "src.sql")
	if out, errOut, code := n.dump("src", "-o", path); code != 0 || out != "" {
		t.Fatalf("camus-dump: %d %q\n%s", code, out, errOut)
	}
	if out, errOut, code := n.cli("", "dst", "-f", path); code != 0 {
		t.Fatalf("restore: %d\n%s\n%s", code, out, errOut)
	}
	for _, q := range []string{
		"SHOW SEQUENCES",
		"SELECT * FROM items ORDER BY id",
		"SELECT * FROM ids ORDER BY id",
		"SHOW CREATE TABLE items",
		"SHOW CREATE TABLE ids",
		"SELECT * FROM free",
		"SELECT nextval('fresh')",
		"INSERT INTO items (name) VALUES ('d') RETURNING id",
		"INSERT INTO ids (v) VALUES ('z') RETURNING id",
		"SELECT pg_get_serial_sequence('items', 'id'), pg_get_serial_sequence('ids', 'id')",
	} {
		src, dst := strings.Join(query(t, c, "src", q), "\n"), strings.Join(query(t, c, "dst", q), "\n")
		if src != dst {
			t.Errorf("%s differs:\nsrc %s\ndst %s", q, src, dst)
		}
	}
	// free handed out 100 and 105 from a cached block of 100..110: the
	// restored sequence goes on after the block, as the source would after
	// a restart.
	expectRows(t, c, "dst", "SELECT nextval('free')", "115")
	// Dropping the restored table drops the sequence it owns.
	if _, err := c.Exec(ctxT(t), "dst", "DROP TABLE items", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Query(ctxT(t), "dst", "SELECT nextval('items_id_seq')", nil, nil)
	expectCode(t, err, "CADB0011")
}
