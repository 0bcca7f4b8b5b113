package kv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// long reports whether the long variants run (CAMUS_LONG=1).
func long() bool { return os.Getenv("CAMUS_LONG") == "1" }

// scale returns short, or long under CAMUS_LONG=1.
func scale(short, long_ int) int {
	if long() {
		return long_
	}
	return short
}

// leakCheck fails the test if it leaves goroutines behind; call it before
// starting anything, so that its cleanup runs last.
func leakCheck(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// injectFaults makes pct% of the node's kv requests fail before they are
// sent (RetryError) and pct% of its successful writes lose their answer
// (AmbiguousError). Undo with SetFault(nil) and SetLostReply(nil).
func injectFaults(n *kvtest.Node, pct int) {
	injected := errors.New("injected fault")
	n.SetFault(func(string, uint64) error {
		if rand.Intn(100) < pct {
			return &kvpb.RetryError{Reason: injected.Error()}
		}
		return nil
	})
	n.SetLostReply(func(string, uint64) error {
		if rand.Intn(100) < pct {
			return injected
		}
		return nil
	})
}

// errFirst keeps the first error reported by concurrent workers.
type errFirst struct {
	mu  sync.Mutex
	err error
}

func (e *errFirst) set(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

func (e *errFirst) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// runTxn runs fn in a transaction of the node's current incarnation until
// it commits or fails with an error that is neither retryable nor
// ambiguous. It returns the outcome of the last attempt: nil (committed),
// or an *kvpb.AmbiguousError (unknown).
func runTxn(ctx context.Context, n *kvtest.Node, fn func(*kv.Txn) error) error {
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		txn, err := n.CurrentDB().Begin(ctx)
		if err != nil {
			return err
		}
		if err = fn(txn); err == nil {
			err = txn.Commit(ctx)
		}
		if err == nil {
			return nil
		}
		_ = txn.Rollback(ctx)
		var amb *kvpb.AmbiguousError
		if errors.As(err, &amb) {
			return err
		}
		if !kvpb.IsRetryable(err) {
			return err
		}
		if attempt > 2000 {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		time.Sleep(time.Duration(rand.Intn(1+min(attempt, 5))) * time.Millisecond) // back off from a conflict
	}
}

func encBalance(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decBalance(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("balance of %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// bank is a set of accounts spread over every partition: account i is row
// "acct<i>" of a table; each table holds perTable accounts, and tables are
// picked round-robin over the partitions.
type bank struct {
	keys    [][]byte
	tables  []uint32 // the tables, one bucket (scan span) each
	initial int64
}

func newBank(partitions, accounts, perTable int, initial int64) *bank {
	b := &bank{initial: initial}
	var byPart [][]uint32
	for p := 1; p <= partitions; p++ {
		byPart = append(byPart, kvtest.TablesOn(uint64(p), partitions, accounts))
	}
	for i := 0; i < accounts; i++ {
		if i%perTable == 0 {
			t := len(b.tables)
			b.tables = append(b.tables, byPart[t%partitions][t/partitions])
		}
		b.keys = append(b.keys, kvtest.Key(b.tables[len(b.tables)-1], fmt.Sprintf("acct%03d", i)))
	}
	return b
}

func (b *bank) total() int64 { return b.initial * int64(len(b.keys)) }

func (b *bank) setup(t *testing.T, n *kvtest.Node) {
	t.Helper()
	ctx := context.Background()
	if err := runTxn(ctx, n, func(txn *kv.Txn) error {
		for _, k := range b.keys {
			if err := txn.Put(k, encBalance(b.initial)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// transfer moves a random amount between two random accounts.
func (b *bank) transfer(ctx context.Context, rng *rand.Rand, txn *kv.Txn) error {
	from, to := rng.Intn(len(b.keys)), rng.Intn(len(b.keys))
	for to == from {
		to = rng.Intn(len(b.keys))
	}
	amount := int64(rng.Intn(20) + 1)
	for _, move := range []struct {
		key   []byte
		delta int64
	}{{b.keys[from], -amount}, {b.keys[to], amount}} {
		v, ok, err := txn.Get(ctx, move.key)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("account %q missing", move.key)
		}
		bal, err := decBalance(v)
		if err != nil {
			return err
		}
		if err := txn.Put(move.key, encBalance(bal+move.delta)); err != nil {
			return err
		}
	}
	return nil
}

// sum reads every balance in txn, by point reads or by scanning each table.
func (b *bank) sum(ctx context.Context, txn *kv.Txn, scan bool) (int64, error) {
	var total int64
	seen := 0
	add := func(v []byte) error {
		bal, err := decBalance(v)
		total += bal
		seen++
		return err
	}
	if scan {
		for _, tbl := range b.tables {
			it := txn.Scan(ctx, kvtest.Key(tbl, ""), nil, tbl%2 == 0)
			for it.Next(ctx) {
				if err := add(it.Value()); err != nil {
					return 0, err
				}
			}
			if err := it.Err(); err != nil {
				return 0, err
			}
		}
	} else {
		for _, k := range b.keys {
			v, ok, err := txn.Get(ctx, k)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, fmt.Errorf("account %q missing", k)
			}
			if err := add(v); err != nil {
				return 0, err
			}
		}
	}
	if seen != len(b.keys) {
		return 0, fmt.Errorf("saw %d accounts, want %d", seen, len(b.keys))
	}
	return total, nil
}

// readSum sums every balance in one read-only transaction, retrying on
// retryable errors.
func (b *bank) readSum(ctx context.Context, n *kvtest.Node, scan bool) (int64, error) {
	for {
		var total int64
		err := runTxn(ctx, n, func(txn *kv.Txn) error {
			var err error
			total, err = b.sum(ctx, txn, scan)
			return err
		})
		// A read-only transaction has nothing to be ambiguous about: the
		// error came from resolving another transaction's intent.
		var amb *kvpb.AmbiguousError
		if !errors.As(err, &amb) {
			return total, err
		}
	}
}

type bankRun struct {
	workers, transfers, readers int
	// crashAfter, when > 0, crashes the node (while transfers and readers
	// run) once that many transfers have finished.
	crashAfter int64
	// abandonEvery, when > 0, abandons every n-th multi-partition commit
	// between prepare and the commit record (the attempt then retries).
	abandonEvery int64
	// faultPct, when > 0, injects faults (see injectFaults) while the
	// workload runs.
	faultPct int
}

// run executes concurrent transfers and readers; every sum a reader
// observes, and the final sum, must equal the initial total.
func (b *bank) run(t *testing.T, n *kvtest.Node, cfg bankRun) (sums int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if cfg.abandonEvery > 0 {
		var commits atomic.Int64
		n.SetBeforeCommitRecord(func(mvcc.TxnID) error {
			if commits.Add(1)%cfg.abandonEvery == 0 {
				return &kvpb.RetryError{Reason: "test: coordinator died before the commit record"}
			}
			return nil
		})
		defer n.SetBeforeCommitRecord(nil)
	}
	if cfg.faultPct > 0 {
		injectFaults(n, cfg.faultPct)
		defer func() {
			n.SetFault(nil)
			n.SetLostReply(nil)
		}()
	}
	var failed errFirst
	var done atomic.Int64
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < cfg.workers; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < cfg.transfers && failed.get() == nil; i++ {
				err := runTxn(ctx, n, func(txn *kv.Txn) error { return b.transfer(ctx, rng, txn) })
				var amb *kvpb.AmbiguousError
				if err != nil && !errors.As(err, &amb) {
					failed.set(fmt.Errorf("transfer: %w", err))
				}
				done.Add(1)
			}
		}(w)
	}
	var observed atomic.Int64
	for r := 0; r < cfg.readers; r++ {
		readers.Add(1)
		go func(r int) {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				total, err := b.readSum(ctx, n, (r+i)%2 == 0)
				if err != nil {
					failed.set(fmt.Errorf("reader: %w", err))
					return
				}
				observed.Add(1)
				if total != b.total() {
					failed.set(fmt.Errorf("reader %d saw total %d, want %d", r, total, b.total()))
					return
				}
			}
		}(r)
	}
	if cfg.crashAfter > 0 {
		kvtest.WaitFor(t, time.Minute, func() error {
			if d := done.Load(); d < cfg.crashAfter && failed.get() == nil {
				return fmt.Errorf("%d transfers done", d)
			}
			return nil
		})
		n.Crash()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if err := failed.get(); err != nil {
		t.Fatal(err)
	}
	n.SetFault(nil)
	n.SetLostReply(nil)
	for _, scan := range []bool{false, true} {
		total, err := b.readSum(ctx, n, scan)
		if err != nil {
			t.Fatal(err)
		}
		if total != b.total() {
			t.Fatalf("final total %d, want %d", total, b.total())
		}
	}
	return observed.Load()
}

// TestBankMultiPartition: concurrent transfers between accounts spread over
// 4 partitions (most transfers are 2PC) and concurrent readers summing
// every balance in one transaction.
func TestBankMultiPartition(t *testing.T) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	b := newBank(4, 16, 2, 1000)
	b.setup(t, n)
	sums := b.run(t, n, bankRun{workers: 8, transfers: scale(150, 2000), readers: 3})
	if sums == 0 {
		t.Fatal("no reader finished a sum")
	}
	t.Logf("%d sums observed", sums)
}

// TestBankAbandonedCommits: every 5th multi-partition commit is abandoned
// between prepare and the commit record (as if its coordinator died); the
// intents it leaves are resolved by the transactions that meet them.
func TestBankAbandonedCommits(t *testing.T) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	b := newBank(4, 12, 3, 500)
	b.setup(t, n)
	b.run(t, n, bankRun{workers: 6, transfers: scale(100, 1000), readers: 2, abandonEvery: 5})
}

// TestBankWithFaults: 5% of kv requests fail before they are sent and 5%
// of the successful writes lose their answer; sums hold.
func TestBankWithFaults(t *testing.T) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	b := newBank(4, 12, 2, 700)
	b.setup(t, n)
	b.run(t, n, bankRun{workers: 6, transfers: scale(80, 1000), readers: 3, faultPct: 5})
}

// TestBankCoordinatorCrash: a transfer is abandoned between prepare and
// commit record and the node crashes right then; the next incarnation
// (new epoch) finds the intents, readers abort them, sums hold. Then the
// node crashes again while transfers and readers run.
func TestBankCoordinatorCrash(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	b := newBank(4, 16, 2, 1000)
	b.setup(t, n)
	b.run(t, n, bankRun{workers: 4, transfers: scale(10, 200), readers: 2})

	// One transfer between accounts of different partitions, abandoned.
	from, to := b.keys[0], b.keys[len(b.keys)-1]
	if p1, p2 := kvtest.PartitionOfTable(b.tables[0], 4), kvtest.PartitionOfTable(b.tables[len(b.tables)-1], 4); p1 == p2 {
		t.Fatalf("accounts on one partition %d", p1)
	}
	var abandoned mvcc.TxnID
	died := errors.New("coordinator died")
	n.SetBeforeCommitRecord(func(id mvcc.TxnID) error { abandoned = id; return died })
	txn, _ := n.DB.Begin(ctx)
	for _, mv := range []struct {
		k     []byte
		delta int64
	}{{from, -999}, {to, 999}} {
		v, _, err := txn.Get(ctx, mv.k)
		if err != nil {
			t.Fatal(err)
		}
		bal, _ := decBalance(v)
		_ = txn.Put(mv.k, encBalance(bal+mv.delta))
	}
	if err := txn.Commit(ctx); !errors.Is(err, died) {
		t.Fatalf("commit: %v", err)
	}
	n.SetBeforeCommitRecord(nil)
	n.SyncWAL() // as any other commit would: prepares are lazy
	n.Crash()

	// The home partition's writes are committed with the record, so only
	// the other account's partition holds an intent.
	intents := n.Intents()
	if len(intents) != 1 {
		t.Fatalf("%d intents after the crash, want the abandoned one", len(intents))
	}
	for _, in := range intents {
		if in.Intent.TxnID != abandoned || in.Intent.CoordEpoch != 1 {
			t.Fatalf("unexpected intent %+v", in.Intent)
		}
	}
	b.run(t, n, bankRun{workers: 4, transfers: scale(10, 200), readers: 3})
	if got := len(n.Intents()); got != 0 {
		// Readers aborted them; the abandoned transaction's record says so.
		kvtest.WaitFor(t, 10*time.Second, func() error {
			if got := len(n.Intents()); got != 0 {
				return fmt.Errorf("%d intents left", got)
			}
			return nil
		})
	}
	rec := n.Dump(kvtest.PartitionOfTable(b.tables[0], 4))
	aborted := false
	for _, e := range rec {
		aborted = aborted || (e.Kind == mvcc.EntryTxnRecord && e.TxnID == abandoned && e.Record.Status == mvcc.TxnAborted)
	}
	if !aborted {
		t.Fatal("the abandoned transaction has no ABORTED record on its home partition")
	}

	// A crash in the middle of the workload: in-flight commits become
	// ambiguous, sums still hold across it.
	b.run(t, n, bankRun{workers: 6, transfers: scale(30, 500), readers: 3, crashAfter: int64(scale(60, 1500))})
	if n.Epoch != 3 {
		t.Fatalf("epoch %d, want 3", n.Epoch)
	}
}
