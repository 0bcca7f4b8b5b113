package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
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
	// Check, when set, runs after the measured operations (none is in
	// flight then) and verifies the invariant the workload's transactions
	// keep: a failure means the system lost or duplicated a write.
	Check func(ctx context.Context, t Target, cfg Config) error
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
		insertWorkload(), pointWorkload(), bankWorkload(), tpcbWorkload(), scanWorkload(), bulkWorkload(),
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
	return loadBatches(ctx, t, "INSERT INTO "+table+" (k, v) VALUES ", n, batch, loaders, func(sb *strings.Builder, k int64) {
		fmt.Fprintf(sb, "(%d, %d)", k, k%1000)
	})
}

// loadBatches inserts the rows [0, n) with multi-row INSERTs of batch rows
// (insert, then row(k) for each), on loaders connections at once.
func loadBatches(ctx context.Context, t Target, insert string, n, batch, loaders int, row func(sb *strings.Builder, k int64)) error {
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
				sb.WriteString(insert)
				for k := start; k < end; k++ {
					if k > start {
						sb.WriteByte(',')
					}
					row(&sb, k)
				}
				if err := t.Exec(ctx, sb.String()); err != nil {
					errs <- fmt.Errorf("%s...: %w", insert, err)
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
		Check: func(ctx context.Context, t Target, _ Config) error {
			// Transfers move money; they never create or destroy it.
			got, err := t.QueryInt64s(ctx, "SELECT COUNT(*), SUM(v) FROM bench_bank")
			if err != nil {
				return err
			}
			if want := []int64{bankAccounts, bankAccounts * (bankAccounts - 1) / 2}; !slices.Equal(got, want) {
				return fmt.Errorf("bank: accounts and total balance are %v, want %v", got, want)
			}
			return nil
		},
	}
}

// TPC-B-like, as pgbench's built-in script: per scale unit one branch, ten
// tellers and 100 000 accounts; a transaction adds a random delta to one
// account, reads it back, adds it to one teller and one branch, and
// appends a history row. Serializable on every system, as bank.
const (
	tpcbTellersPerBranch  = 10
	tpcbAccountsPerBranch = 100_000
)

var (
	tpcbFiller84 = strings.Repeat(" ", 84)
	tpcbFiller88 = strings.Repeat(" ", 88)
)

func tpcbWorkload() *Workload {
	return &Workload{
		Name: "tpcb", Description: "pgbench's TPC-B-like transaction (update account, teller, branch; insert history)",
		Setup: func(ctx context.Context, t Target, cfg Config) error {
			scale := cfg.TPCBScale
			if err := recreate(ctx, t, "bench_tpcb_branches", "bid BIGINT PRIMARY KEY, bbalance BIGINT, filler TEXT"); err != nil {
				return err
			}
			if err := recreate(ctx, t, "bench_tpcb_tellers", "tid BIGINT PRIMARY KEY, bid BIGINT, tbalance BIGINT, filler TEXT"); err != nil {
				return err
			}
			if err := recreate(ctx, t, "bench_tpcb_accounts", "aid BIGINT PRIMARY KEY, bid BIGINT, abalance BIGINT, filler TEXT"); err != nil {
				return err
			}
			// No primary key, as pgbench's.
			if err := recreate(ctx, t, "bench_tpcb_history", "tid BIGINT, bid BIGINT, aid BIGINT, delta BIGINT, mtime TIMESTAMP"); err != nil {
				return err
			}
			if err := loadBatches(ctx, t, "INSERT INTO bench_tpcb_branches (bid, bbalance, filler) VALUES ", scale, 1000, 1, func(sb *strings.Builder, k int64) {
				fmt.Fprintf(sb, "(%d, 0, '%s')", k+1, tpcbFiller88)
			}); err != nil {
				return err
			}
			if err := loadBatches(ctx, t, "INSERT INTO bench_tpcb_tellers (tid, bid, tbalance, filler) VALUES ", scale*tpcbTellersPerBranch, 1000, 1, func(sb *strings.Builder, k int64) {
				fmt.Fprintf(sb, "(%d, %d, 0, '%s')", k+1, k/tpcbTellersPerBranch+1, tpcbFiller84)
			}); err != nil {
				return err
			}
			return loadBatches(ctx, t, "INSERT INTO bench_tpcb_accounts (aid, bid, abalance, filler) VALUES ", scale*tpcbAccountsPerBranch, 1000, 2, func(sb *strings.Builder, k int64) {
				fmt.Fprintf(sb, "(%d, %d, 0, '%s')", k+1, k/tpcbAccountsPerBranch+1, tpcbFiller84)
			})
		},
		Op: func(ctx context.Context, t Target, w *worker) (int, error) {
			scale := int64(w.cfg.TPCBScale)
			aid := w.rng.Int64N(scale*tpcbAccountsPerBranch) + 1
			bid := w.rng.Int64N(scale) + 1
			tid := w.rng.Int64N(scale*tpcbTellersPerBranch) + 1
			delta := w.rng.Int64N(10_001) - 5_000
			return t.Txn(ctx, func(tx Tx) error {
				if err := tx.Exec(ctx, "UPDATE bench_tpcb_accounts SET abalance = abalance + $1 WHERE aid = $2", delta, aid); err != nil {
					return err
				}
				got, err := tx.QueryInt64s(ctx, "SELECT abalance FROM bench_tpcb_accounts WHERE aid = $1", aid)
				if err != nil {
					return err
				}
				if len(got) != 1 {
					return fmt.Errorf("tpcb: account %d missing", aid)
				}
				if err := tx.Exec(ctx, "UPDATE bench_tpcb_tellers SET tbalance = tbalance + $1 WHERE tid = $2", delta, tid); err != nil {
					return err
				}
				if err := tx.Exec(ctx, "UPDATE bench_tpcb_branches SET bbalance = bbalance + $1 WHERE bid = $2", delta, bid); err != nil {
					return err
				}
				return tx.Exec(ctx, "INSERT INTO bench_tpcb_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)", tid, bid, aid, delta)
			})
		},
		Check: func(ctx context.Context, t Target, _ Config) error {
			// Every committed transaction added its delta to one account,
			// one teller and one branch and logged it once: the four sums
			// agree.
			var sums []int64
			for _, q := range []string{
				"SELECT SUM(abalance) FROM bench_tpcb_accounts",
				"SELECT SUM(tbalance) FROM bench_tpcb_tellers",
				"SELECT SUM(bbalance) FROM bench_tpcb_branches",
				"SELECT SUM(delta) FROM bench_tpcb_history",
			} {
				got, err := t.QueryInt64s(ctx, q)
				if err != nil {
					return err
				}
				if len(got) != 1 {
					return fmt.Errorf("tpcb: %s returned %v", q, got)
				}
				sums = append(sums, got[0])
			}
			if sums[0] != sums[1] || sums[1] != sums[2] || sums[2] != sums[3] {
				return fmt.Errorf("tpcb: balances of accounts, tellers and branches and the history's deltas sum to %v: they must agree", sums)
			}
			return nil
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
