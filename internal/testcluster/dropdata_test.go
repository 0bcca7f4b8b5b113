package testcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// DROP TABLE in a cluster: the job (on whichever node runs it) clears the
// table's spans through their leaseholders with one range deletion each,
// once the GC threshold passed the drop, and succeeds; the three replicas
// together write a fraction of the WAL bytes the table's load wrote.
// (GC every 50 ms keeping 300 ms of history, so the clear comes at once.)
func TestDropTableClearsDataInCluster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4, Configure: func(_ int, cfg *server.Config) {
		cfg.TestingGCInterval, cfg.TestingGCTTL, cfg.TestingDropDataRetry = 50*time.Millisecond, 300*time.Millisecond, 20*time.Millisecond
	}})
	cl := setup(t, c, "CREATE TABLE big (id INT64 PRIMARY KEY, v STRING, INDEX v_idx (v))")
	ctx := context.Background()
	walBytes := func() float64 {
		total := 0.0
		for i := range c.Len() {
			total += metric(t, c.URL(i), "camusdb_storage_wal_bytes_written_total")
		}
		return total
	}
	before := walBytes()
	pad := strings.Repeat("x", 100)
	for start := 0; start < 3000; start += 500 {
		var rows []string
		for i := start; i < start+500; i++ {
			rows = append(rows, fmt.Sprintf("(%d, '%s-%d')", i, pad, i))
		}
		retry(t, "load", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO big (id, v) VALUES "+strings.Join(rows, ", "), nil, nil)
			if client.CodeOf(err) == client.CodeUniqueViolation {
				return nil
			}
			return err
		})
	}
	loaded := walBytes()
	retry(t, "drop", func() error { return cl.ExecDDL(ctx, db, "DROP TABLE IF EXISTS big") })
	c.SucceedsSoon(func() error {
		res, err := cl.Query(ctx, db, "SHOW JOBS", nil, nil)
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			if row[1] == "DROP TABLE DATA" && row[4] != "succeeded" {
				return fmt.Errorf("drop job is %v (error %v)", row[4], row[11])
			}
		}
		return nil
	})
	load, drop := loaded-before, walBytes()-loaded
	t.Logf("WAL bytes over the three nodes: loading 3000 rows %.0f, dropping them %.0f", load, drop)
	// A tombstone per key wrote more than the load (14 MB against 10.5);
	// the range deletions ~0.3 MB, plus what the nodes write meanwhile
	// anyway (GC thresholds every 50 ms, lease extensions, the job's
	// heartbeat), which grows with the time the drop takes on a loaded
	// machine (0.85 MB seen): a third of the load separates the two.
	if drop*3 > load {
		t.Fatalf("dropping the table wrote %.0f WAL bytes, more than a third of the %.0f its load wrote", drop, load)
	}
}

// metric reads one sample of a node's /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("%s/metrics has no %s", base, name)
	return 0
}

// TRUNCATE in a cluster: its descriptor change drains every node's schema
// lease, so no node reads the old rows afterwards, whichever node ran it;
// rows written after it are read from every node, through the index too;
// its DROP TABLE DATA job clears the old spans.
func TestTruncateInCluster(t *testing.T) {
	c, cl, cls := leasedTable(t, "tr", "CREATE TABLE tr (id INT64 PRIMARY KEY, v STRING, INDEX v_idx (v))")
	ctx := context.Background()
	retry(t, "truncate", func() error {
		_, err := cls[1].Exec(ctx, db, "TRUNCATE tr", nil, nil)
		return err
	})
	countEverywhere(t, cls, "SELECT COUNT(*) FROM tr", 0)
	retry(t, "insert", func() error {
		_, err := cls[2].Exec(ctx, db, "INSERT INTO tr (id, v) VALUES (1, 'after')", nil, nil)
		if client.CodeOf(err) == client.CodeUniqueViolation {
			return nil
		}
		return err
	})
	countEverywhere(t, cls, "SELECT COUNT(*) FROM tr", 1)
	countEverywhere(t, cls, "SELECT COUNT(*) FROM tr WHERE v = 'after'", 1)
	waitDataJob(t, c, cl, "TRUNCATE")
	countEverywhere(t, cls, "SELECT COUNT(*) FROM tr", 1)
}

// leasedTable starts a 3-node cluster whose data jobs run fast, creates
// table with create, loads rows (id, 'v'+id) for id in [0, 600) and reads
// the count on every node, so that every node leases the descriptor. It
// returns the cluster, the setup client and a client per node.
func leasedTable(t *testing.T, table, create string) (*testcluster.Cluster, *client.Client, []*client.Client) {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4, Configure: func(_ int, cfg *server.Config) {
		cfg.TestingGCInterval, cfg.TestingGCTTL, cfg.TestingDropDataRetry = 50*time.Millisecond, 300*time.Millisecond, 20*time.Millisecond
	}})
	cl := setup(t, c, create)
	var rows []string
	for i := range 600 {
		rows = append(rows, fmt.Sprintf("(%d, 'v%d')", i, i))
	}
	count := fmt.Sprintf("SELECT COUNT(*) FROM %s", table)
	retry(t, "load", func() error {
		// One statement: all or nothing. A retry after an answer lost in
		// transit finds the rows there (a table without a key would take
		// them twice).
		if queryInt(t, cl, count) == 600 {
			return nil
		}
		_, err := cl.Exec(context.Background(), db, "INSERT INTO "+table+" (id, v) VALUES "+strings.Join(rows, ", "), nil, nil)
		return err
	})
	cls := nodeClients(t, c)
	countEverywhere(t, cls, count, 600)
	return c, cl, cls
}

// waitDataJob waits until the cluster's DROP TABLE DATA job (of what)
// has succeeded.
func waitDataJob(t *testing.T, c *testcluster.Cluster, cl *client.Client, what string) {
	t.Helper()
	c.SucceedsSoon(func() error {
		res, err := cl.Query(context.Background(), db, "SHOW JOBS", nil, nil)
		if err != nil {
			return err
		}
		found := false
		for _, row := range res.Rows {
			if row[1] == "DROP TABLE DATA" {
				found = true
				if row[4] != "succeeded" {
					return fmt.Errorf("%s's data job is %v (error %v)", what, row[4], row[11])
				}
			}
		}
		if !found {
			return fmt.Errorf("no DROP TABLE DATA job")
		}
		return nil
	})
}

// countEverywhere checks sql's count on every node.
func countEverywhere(t *testing.T, cls []*client.Client, sql string, want int64) {
	t.Helper()
	for i, n := range cls {
		if got := queryInt(t, n, sql); got != want {
			t.Fatalf("node %d: %s = %d, want %d", i+1, sql, got, want)
		}
	}
}

// A primary key change rewrites the table into fresh spans: every node,
// having leased the old descriptor, reads the rewritten rows by the new
// key and the index, the new key is enforced, and the old spans' job
// succeeds.
func TestAddPrimaryKeyInCluster(t *testing.T) {
	c, cl, cls := leasedTable(t, "pk", "CREATE TABLE pk (id INT64, v STRING, INDEX v_idx (v))")
	ctx := context.Background()
	retry(t, "add primary key", func() error {
		_, err := cls[1].Exec(ctx, db, "ALTER TABLE pk ADD PRIMARY KEY (id)", nil, nil)
		return err
	})
	countEverywhere(t, cls, "SELECT COUNT(*) FROM pk", 600)
	countEverywhere(t, cls, "SELECT COUNT(*) FROM pk WHERE id = 123 AND v = 'v123'", 1)
	countEverywhere(t, cls, "SELECT COUNT(*) FROM pk WHERE v = 'v321'", 1)
	if _, err := cls[2].Exec(ctx, db, "INSERT INTO pk (id, v) VALUES (5, 'again')", nil, nil); client.CodeOf(err) != client.CodeUniqueViolation {
		t.Fatalf("a duplicate of the new key: %v, want %s", err, client.CodeUniqueViolation)
	}
	waitDataJob(t, c, cl, "ADD PRIMARY KEY")
	countEverywhere(t, cls, "SELECT COUNT(*) FROM pk", 600)
	countEverywhere(t, cls, "SELECT COUNT(*) FROM pk WHERE v = 'v599'", 1)
}
