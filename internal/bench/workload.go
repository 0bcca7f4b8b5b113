package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
)

// Workload is one benchmark: Setup prepares its tables (once per target),
// Op runs one operation (from any client goroutine), Clients overrides the
// run's client count (0: the run's). Bulk workloads instead implement
// Loader and are timed as a whole.
type Workload struct {
	Name        string
	Description string
	Clients     int
	Setup       func(ctx context.Context, t Target, cfg Config) error
	Op          func(ctx context.Context, t Target, w *worker) (attempts int, err error)
	// Load, when set, is the whole workload (bulk load): Setup, then Load
	// is timed once.
	Load func(ctx context.Context, t Target, cfg Config) error
}

// worker is one client goroutine's state.
type worker struct {
	rng  *rand.Rand
	cfg  Config
	next *atomic.Int64 // shared key counter of inserting workloads
}

// Workloads lists every workload, in the order of the report.
func Workloads() []*Workload {
	return []*Workload{
		insertWorkload(), pointWorkload(), bankWorkload(), scanWorkload(), bulkWorkload(),
		ycsb("ycsb-a", "YCSB A: 50% point reads, 50% updates", 0.5, 0),
		ycsb("ycsb-b", "YCSB B: 95% point reads, 5% updates", 0.95, 0),
		ycsb("ycsb-c", "YCSB C: point reads only", 1, 0),
		ycsb("ycsb-e", "YCSB E: 95% short range scans (10 rows), 5% inserts", 0, 0.95),
	}
}

// Lookup returns the named workloads ("all" for every one).
func Lookup(names string) ([]*Workload, error) {
	all := Workloads()
	if names == "" || names == "all" {
		return all, nil
	}
	var out []*Workload
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, w := range all {
			if w.Name == n {
				out = append(out, w)
				found = true
			}
		}
		if !found {
			var known []string
			for _, w := range all {
				known = append(known, w.Name)
			}
			return nil, fmt.Errorf("bench: unknown workload %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

func recreate(ctx context.Context, t Target, table, columns string) error {
	if err := t.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		return err
	}
	return t.Exec(ctx, "CREATE TABLE "+table+" ("+columns+")")
}

// loadRows fills table (k BIGINT PRIMARY KEY, v BIGINT) with k in [0, n)
// by multi-row INSERTs of batch rows, on loaders connections at once.
func loadRows(ctx context.Context, t Target, table string, n, batch, loaders int) error {
	var next atomic.Int64
	errs := make(chan error, loaders)
	for range loaders {
		go func() {
			for {
				start := next.Add(int64(batch)) - int64(batch)
				if start >= int64(n) {
					errs <- nil
					return
				}
				end := min(start+int64(batch), int64(n))
				var sb strings.Builder
				sb.WriteString("INSERT INTO " + table + " (k, v) VALUES ")
				for k := start; k < end; k++ {
					if k > start {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, "(%d, %d)", k, k%1000)
				}
				if err := t.Exec(ctx, sb.String()); err != nil {
					errs <- fmt.Errorf("loading %s: %w", table, err)
					return
				}
			}
		}()
	}
	var first error
	for range loaders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func insertWorkload() *Workload {
	return &Workload{
		Name: "insert", Description: "autocommit single-row INSERT",
		Setup: func(ctx context.Context, t Target, _ Config) error {
			return recreate(ctx, t, "bench_insert", "k BIGINT PRIMARY KEY, v BIGINT, s TEXT")
		},
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			k := w.next.Add(1)
			return 1, t.Exec(ctx, "INSERT INTO bench_insert (k, v, s) VALUES ($1, $2, $3)", k, k%1000, "payload")
		},
	}
}

// kvTable is the table of the point and YCSB workloads: cfg.Rows rows.
func setupKV(ctx context.Context, t Target, cfg Config) error {
	if err := recreate(ctx, t, "bench_kv", "k BIGINT PRIMARY KEY, v BIGINT"); err != nil {
		return err
	}
	return loadRows(ctx, t, "bench_kv", cfg.Rows, 1000, 2)
}

func pointWorkload() *Workload {
	return &Workload{
		Name: "point", Description: "point SELECT by primary key",
		Setup: setupKV,
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			n, err := t.QueryRows(ctx, "SELECT v FROM bench_kv WHERE k = $1", w.rng.Int64N(int64(w.cfg.Rows)))
			if err == nil && n != 1 {
				err = fmt.Errorf("point select returned %d rows", n)
			}
			return 1, err
		},
	}
}

// bankAccounts is the number of accounts of the bank workload.
const bankAccounts = 1000

func bankWorkload() *Workload {
	return &Workload{
		Name: "bank", Description: "serializable transfer: read 2 balances, write 2",
		Setup: func(ctx context.Context, t Target, _ Config) error {
			if err := recreate(ctx, t, "bench_bank", "k BIGINT PRIMARY KEY, v BIGINT"); err != nil {
				return err
			}
			return loadRows(ctx, t, "bench_bank", bankAccounts, 500, 1)
		},
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			from := w.rng.Int64N(bankAccounts)
			to := (from + 1 + w.rng.Int64N(bankAccounts-1)) % bankAccounts
			return t.Txn(ctx, func(tx Tx) error {
				a, err := tx.QueryInt64s(ctx, "SELECT v FROM bench_bank WHERE k = $1", from)
				if err != nil {
					return err
				}
				b, err := tx.QueryInt64s(ctx, "SELECT v FROM bench_bank WHERE k = $1", to)
				if err != nil {
					return err
				}
				if len(a) != 1 || len(b) != 1 {
					return fmt.Errorf("bank: account missing")
				}
				if err := tx.Exec(ctx, "UPDATE bench_bank SET v = $1 WHERE k = $2", a[0]-1, from); err != nil {
					return err
				}
				return tx.Exec(ctx, "UPDATE bench_bank SET v = $1 WHERE k = $2", b[0]+1, to)
			})
		},
	}
}

func scanWorkload() *Workload {
	return &Workload{
		Name: "scan", Description: "COUNT(*), SUM(v) over the scan table (1 client)", Clients: 1,
		Setup: func(ctx context.Context, t Target, cfg Config) error {
			if err := recreate(ctx, t, "bench_scan", "k BIGINT PRIMARY KEY, v BIGINT"); err != nil {
				return err
			}
			return loadRows(ctx, t, "bench_scan", cfg.ScanRows, 1000, 2)
		},
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			got, err := t.QueryInt64s(ctx, "SELECT COUNT(*), SUM(v) FROM bench_scan")
			if err == nil && (len(got) != 2 || got[0] != int64(w.cfg.ScanRows)) {
				err = fmt.Errorf("scan counted %v, want %d rows", got, w.cfg.ScanRows)
			}
			return 1, err
		},
	}
}

func bulkWorkload() *Workload {
	return &Workload{
		Name: "bulk", Description: "bulk load of the scan-size table, 1000-row INSERTs, 2 loaders",
		Setup: func(ctx context.Context, t Target, _ Config) error {
			return recreate(ctx, t, "bench_bulk", "k BIGINT PRIMARY KEY, v BIGINT")
		},
		Load: func(ctx context.Context, t Target, cfg Config) error {
			return loadRows(ctx, t, "bench_bulk", cfg.ScanRows, 1000, 2)
		},
	}
}

// ycsb mixes point reads (readFrac), 10-row range scans (scanFrac), and
// updates (the rest; inserts instead when scanFrac > 0, as YCSB E).
func ycsb(name, desc string, readFrac, scanFrac float64) *Workload {
	return &Workload{
		Name: name, Description: desc,
		Setup: setupKV,
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			x := w.rng.Float64()
			k := w.rng.Int64N(int64(w.cfg.Rows))
			switch {
			case x < readFrac:
				_, err := t.QueryRows(ctx, "SELECT v FROM bench_kv WHERE k = $1", k)
				return 1, err
			case x < readFrac+scanFrac:
				_, err := t.QueryRows(ctx, "SELECT k, v FROM bench_kv WHERE k >= $1 ORDER BY k LIMIT 10", k)
				return 1, err
			case scanFrac > 0:
				nk := int64(w.cfg.Rows) + w.next.Add(1)
				return 1, t.Exec(ctx, "INSERT INTO bench_kv (k, v) VALUES ($1, $2)", nk, nk%1000)
			}
			return 1, t.Exec(ctx, "UPDATE bench_kv SET v = $1 WHERE k = $2", w.rng.Int64N(1000), k)
		},
	}
}
