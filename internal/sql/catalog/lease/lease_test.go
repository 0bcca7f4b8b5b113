package lease_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/lease"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

var pk = catalog.IndexDesc{ID: catalog.PrimaryIndexID, Name: catalog.PrimaryIndexName, Unique: true, Columns: []catalog.IndexColumn{{ColumnID: 1}}}

// countingKV counts the reads of descriptor keys made through a txn.
type countingKV struct {
	catalog.Txn
	descReads *atomic.Int64
}

func (c countingKV) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if catalog.IsDescriptorKey(key) {
		c.descReads.Add(1)
	}
	return c.Txn.Get(ctx, key)
}

type fixture struct {
	t     *testing.T
	clock *hlc.ManualClock
	db    *catalogtest.MemDB
	dbID  uint32
}

func newFixture(t *testing.T) *fixture {
	clock := hlc.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	f := &fixture{t: t, clock: clock, db: catalogtest.NewMemDBWithClock(clock.UnixNano)}
	f.run(func(txn catalog.Txn) error {
		if _, err := catalog.CreateDatabase(context.Background(), txn, "d", false); err != nil {
			return err
		}
		db, err := catalog.GetDatabase(context.Background(), txn, "d")
		if err != nil {
			return err
		}
		f.dbID = db.ID
		return catalog.CreateTable(context.Background(), txn, &catalog.TableDesc{DBID: db.ID, Name: "t",
			Columns: []catalog.ColumnDesc{{ID: 1, Name: "id", Kind: types.Int64, NotNull: true}}, PrimaryKey: pk, NextColumnID: 2, NextIndexID: 2})
	})
	return f
}

func (f *fixture) run(fn func(catalog.Txn) error) {
	f.t.Helper()
	ctx := context.Background()
	txn, err := f.db.Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := fn(txn); err != nil {
		f.t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		f.t.Fatal(err)
	}
}

// manager returns a lease manager of node id whose background loop never
// runs on its own (tests call Tick).
func (f *fixture) manager(id uint64) *lease.Manager {
	m := lease.New(f.db, lease.Config{NodeID: id, Duration: 10 * time.Second, PollInterval: time.Hour})
	f.t.Cleanup(m.Close)
	return m
}

// resolve resolves table t in a fresh transaction through m and returns
// its version and how many descriptor reads went to KV.
func (f *fixture) resolve(m *lease.Manager) (version uint32, kvReads int64) {
	f.t.Helper()
	ctx := context.Background()
	txn, err := f.db.Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = txn.Rollback(ctx) }()
	var n atomic.Int64
	r := m.Resolver(txn, (*catalog.DecodeCache)(nil))
	desc, err := r.GetTable(ctx, countingKV{txn, &n}, f.dbID, "t")
	if err != nil {
		f.t.Fatal(err)
	}
	return desc.Version, n.Load()
}

// alter bumps t's version in a transaction drained through m.
func (f *fixture) alter(ctx context.Context, m *lease.Manager) error {
	txn, err := f.db.Begin(ctx)
	if err != nil {
		return err
	}
	t, err := catalog.GetTable(ctx, txn, f.dbID, "t")
	if err != nil {
		return err
	}
	if err := catalog.UpdateTable(ctx, txn, t); err != nil {
		return err
	}
	keys := [][]byte{catalog.TableKey(f.dbID, "t")}
	if err := m.Drain(ctx, txn, keys); err != nil {
		_ = txn.Rollback(ctx)
		return err
	}
	if err := txn.Commit(ctx); err != nil {
		m.Undrain(ctx, keys)
		return err
	}
	m.Committed(keys)
	return nil
}

func settle(t *testing.T, m *lease.Manager) {
	t.Helper()
	if err := m.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// After the first statement acquires a lease, statements resolve the
// table without reading KV; once the lease expires unrenewed they read
// through their transaction again.
func TestLeasedReadsSkipKV(t *testing.T) {
	f := newFixture(t)
	m := f.manager(1)
	if v, reads := f.resolve(m); v != 1 || reads != 1 {
		t.Fatalf("first resolution: version %d, %d KV reads; want 1, 1", v, reads)
	}
	settle(t, m)
	for i := 0; i < 3; i++ {
		if v, reads := f.resolve(m); v != 1 || reads != 0 {
			t.Fatalf("leased resolution: version %d, %d KV reads; want 1, 0", v, reads)
		}
	}
	if s := m.Stats(); s.Hits != 3 || s.Acquired != 1 || s.Held != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Unrenewed (no Tick), the lease ends at its expiration on the clock.
	f.clock.Increment(10 * time.Second)
	if _, reads := f.resolve(m); reads != 1 {
		t.Fatalf("after expiry: %d KV reads, want 1 (an expired lease must not serve)", reads)
	}
}

// A lease in use is renewed by Tick before it expires and keeps serving.
func TestLeaseRenewal(t *testing.T) {
	f := newFixture(t)
	m := f.manager(1)
	f.resolve(m)
	settle(t, m)
	for i := 0; i < 5; i++ {
		f.clock.Increment(6 * time.Second)
		f.resolve(m) // used since the last renewal
		m.Tick(context.Background())
	}
	if _, reads := f.resolve(m); reads != 0 {
		t.Fatalf("renewed lease: %d KV reads, want 0", reads)
	}
	// Unused, it is dropped once expired (the first Tick renews it: it
	// was used since the last renewal).
	for i := 0; i < 2; i++ {
		f.clock.Increment(11 * time.Second)
		m.Tick(context.Background())
	}
	if s := m.Stats(); s.Held != 0 {
		t.Fatalf("unused expired lease still held: %+v", s)
	}
}

// A change waits until the lease of another node is released: that node
// releases it when it sees the drain marker (Tick), and afterwards serves
// the new version.
func TestDrainWaitsForRelease(t *testing.T) {
	f := newFixture(t)
	ddl, other := f.manager(1), f.manager(2)
	f.resolve(other)
	settle(t, other)
	if _, reads := f.resolve(other); reads != 0 {
		t.Fatal("node 2 holds no lease")
	}
	done := make(chan error, 1)
	ddl2 := lease.New(f.db, lease.Config{NodeID: 1, Duration: 10 * time.Second, PollInterval: time.Millisecond})
	defer ddl2.Close()
	_ = ddl
	go func() { done <- f.alter(context.Background(), ddl2) }()
	// The marker must be there before node 2 looks.
	waitFor(t, func() bool { return markerCount(t, f.db) == 1 })
	select {
	case err := <-done:
		t.Fatalf("the change committed while node 2 held a lease on the old version (err %v)", err)
	default:
	}
	// Node 2 still serves version 1 (it has not seen the marker yet): the
	// change has not committed, so that is right.
	if v, _ := f.resolve(other); v != 1 {
		t.Fatalf("node 2 serves version %d before the change committed", v)
	}
	other.Tick(context.Background())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, reads := f.resolve(other); v != 2 || reads != 1 {
		t.Fatalf("node 2 after the change: version %d with %d KV reads; want 2 read through KV", v, reads)
	}
	settle(t, other)
	if v, reads := f.resolve(other); v != 2 || reads != 0 {
		t.Fatalf("node 2 re-leased: version %d with %d KV reads; want 2, 0", v, reads)
	}
	if markerCount(t, f.db) != 0 {
		t.Fatal("the committed change left its drain marker")
	}
}

// A node that stops answering holds a change up only until its lease
// expires; and it stops serving its copy at that expiry itself.
func TestDrainWaitsForExpiryOfSilentNode(t *testing.T) {
	f := newFixture(t)
	silent := f.manager(2)
	f.resolve(silent)
	settle(t, silent)
	ddl := lease.New(f.db, lease.Config{NodeID: 1, Duration: 10 * time.Second, PollInterval: time.Millisecond})
	defer ddl.Close()
	done := make(chan error, 1)
	go func() { done <- f.alter(context.Background(), ddl) }()
	waitFor(t, func() bool { return markerCount(t, f.db) == 1 })
	select {
	case err := <-done:
		t.Fatalf("the change did not wait for the silent node's lease (err %v)", err)
	default:
	}
	f.clock.Increment(10 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, reads := f.resolve(silent); v != 2 || reads != 1 {
		t.Fatalf("silent node after expiry: version %d, %d KV reads; want 2 read through KV", v, reads)
	}
}

// A change whose wait is cut short fails with CADB0503 and leaves no
// marker behind (the table can be leased again at once).
func TestDrainTimeout(t *testing.T) {
	f := newFixture(t)
	silent := f.manager(2)
	f.resolve(silent)
	settle(t, silent)
	ddl := lease.New(f.db, lease.Config{NodeID: 1, PollInterval: time.Millisecond})
	defer ddl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.alter(ctx, ddl) }()
	waitFor(t, func() bool { return markerCount(t, f.db) == 1 })
	cancel()
	if err := <-done; errcode.Of(err) != errcode.SchemaCatchingUp {
		t.Fatalf("cut wait: %v, want CADB0503", err)
	}
	if markerCount(t, f.db) != 0 {
		t.Fatal("a given-up change left its marker")
	}
}

// The invariant, under concurrency: a descriptor served from a cache is
// the one a read through the transaction returns at the same read
// timestamp, while changes keep committing through another node.
func TestCachedDescriptorIsTheOneAtTheReadTimestamp(t *testing.T) {
	db := catalogtest.NewMemDB()
	f := &fixture{t: t, db: db}
	f.run(func(txn catalog.Txn) error {
		if _, err := catalog.CreateDatabase(context.Background(), txn, "d", false); err != nil {
			return err
		}
		d, _ := catalog.GetDatabase(context.Background(), txn, "d")
		f.dbID = d.ID
		return catalog.CreateTable(context.Background(), txn, &catalog.TableDesc{DBID: d.ID, Name: "t",
			Columns: []catalog.ColumnDesc{{ID: 1, Name: "id", Kind: types.Int64, NotNull: true}}, PrimaryKey: pk, NextColumnID: 2, NextIndexID: 2})
	})
	cfg := lease.Config{Duration: 50 * time.Millisecond, PollInterval: time.Millisecond}
	var readers []*lease.Manager
	for id := uint64(2); id <= 3; id++ {
		c := cfg
		c.NodeID = id
		m := lease.New(db, c)
		defer m.Close()
		readers = append(readers, m)
	}
	cfg.NodeID = 1
	ddl := lease.New(db, cfg)
	defer ddl.Close()

	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var checked, cached atomic.Int64
	errs := make(chan error, 4)
	for _, m := range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				txn, err := db.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				var n atomic.Int64
				got, err := m.Resolver(txn, (*catalog.DecodeCache)(nil)).GetTable(ctx, countingKV{txn, &n}, f.dbID, "t")
				if err != nil {
					errs <- err
					return
				}
				want, err := catalog.GetTable(ctx, txn, f.dbID, "t")
				_ = txn.Rollback(ctx)
				if err != nil {
					errs <- err
					return
				}
				if got.Version != want.Version {
					errs <- errors.New("a cached descriptor differs from the one at the read timestamp")
					return
				}
				checked.Add(1)
				if n.Load() == 0 {
					cached.Add(1)
				}
			}
		})
	}
	for i := 0; i < 30; i++ {
		if err := f.alter(ctx, ddl); err != nil && !kvpb.IsRetryable(err) {
			t.Fatal(err)
		}
		// Let the readers lease the new version before the next change.
		waitFor(t, func() bool { return cached.Load() > int64(i) })
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if cached.Load() == 0 {
		t.Fatalf("no resolution was served from a lease (%d checked)", checked.Load())
	}
}

func markerCount(t *testing.T, db *catalogtest.MemDB) int {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txn.Rollback(ctx) }()
	prefix := []byte{kvpb.SystemTag, '~', 'M'}
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	n := 0
	for it.Next(ctx) {
		n++
	}
	return n
}

// waitFor waits for cond with a generous deadline (a condition, not a
// sleep: it returns as soon as cond holds).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if !cond() {
			return errors.New("condition not reached")
		}
		return nil
	})
}

// movedTxn is a transaction whose read timestamp moved up (as a read in
// the uncertainty window does in the real kv layer): its reads from now
// on are those of a later snapshot.
type movedTxn struct {
	catalog.TimestampedTxn
	later catalog.TimestampedTxn
	moved bool
}

func (t *movedTxn) ReadTimestamp() hlc.Timestamp {
	if t.moved {
		return t.later.ReadTimestamp()
	}
	return t.TimestampedTxn.ReadTimestamp()
}

func (t *movedTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if t.moved {
		return t.later.Get(ctx, key)
	}
	return t.TimestampedTxn.Get(ctx, key)
}

// A statement whose read timestamp moved past a change of a descriptor it
// took from the cache fails with a retryable conflict; one whose
// descriptors did not change passes.
func TestVerifyAfterReadTimestampMoved(t *testing.T) {
	f := newFixture(t)
	m := f.manager(1)
	ddl := lease.New(f.db, lease.Config{NodeID: 2, PollInterval: time.Millisecond})
	defer ddl.Close()
	ctx := context.Background()
	f.resolve(m)
	settle(t, m)
	for _, change := range []bool{false, true} {
		first, _ := f.db.Begin(ctx)
		txn := &movedTxn{TimestampedTxn: first.(catalog.TimestampedTxn)}
		r := m.Resolver(txn, (*catalog.DecodeCache)(nil))
		var n atomic.Int64
		if _, err := r.GetTable(ctx, countingKV{txn, &n}, f.dbID, "t"); err != nil || n.Load() != 0 {
			t.Fatalf("not served from the lease (%d reads, %v)", n.Load(), err)
		}
		if change {
			// The change waits for node 1's lease: release it as its
			// background loop would.
			done := make(chan error, 1)
			go func() { done <- f.alter(ctx, ddl) }()
			waitFor(t, func() bool { return markerCount(t, f.db) == 1 })
			m.Tick(ctx)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		later, _ := f.db.Begin(ctx)
		txn.later, txn.moved = later.(catalog.TimestampedTxn), true
		err := lease.Verify(ctx, r)
		if change != kvpb.IsRetryable(err) || (!change && err != nil) {
			t.Fatalf("change=%v: Verify = %v", change, err)
		}
		_ = first.Rollback(ctx)
		_ = later.Rollback(ctx)
		settle(t, m)
		f.resolve(m) // re-lease
		settle(t, m)
	}
}
