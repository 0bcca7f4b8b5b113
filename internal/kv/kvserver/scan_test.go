package kvserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// gatedReplicator applies commands to the engine, but a command waits
// until release is closed once gate is set: its latches stay held, as for
// a commit whose Raft round trip is slow.
type gatedReplicator struct {
	engine  *storage.Engine
	gate    chan struct{} // closed when a gated proposal is waiting
	release chan struct{}
}

func (r *gatedReplicator) Admit(uint64) (replica.LeaseStatus, func(), error) {
	return replica.LeaseStatus{Term: 1, Seq: 1}, func() {}, nil
}

func (r *gatedReplicator) Propose(ctx context.Context, _ uint64, cmd Command) error {
	defer cmd.Settle()
	if r.gate != nil {
		close(r.gate)
		select {
		case <-r.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b := r.engine.NewBatch()
	defer b.Close()
	for _, w := range cmd.Writes {
		switch {
		case w.End != nil:
			_ = b.DeleteRange(w.Key, w.End)
		case w.Delete:
			_ = b.Delete(w.Key)
		default:
			_ = b.Set(w.Key, w.Value)
		}
	}
	return b.Commit(false)
}

// TestLimitedScanLatchesOnlyWhatItReads: a scan limited to 2 rows over a
// span whose far end has a write in flight (its latch held) answers
// without waiting for that write, and records only the extent it read;
// an unlimited scan of the same span does wait.
func TestLimitedScanLatchesOnlyWhatItReads(t *testing.T) {
	eng, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	clock := hlc.NewClock(nil)
	repl := &gatedReplicator{engine: eng}
	s := New(eng, clock, repl)
	ctx := context.Background()
	const p = 1
	var muts []Mutation
	for _, k := range []string{"a", "b", "c", "d"} {
		muts = append(muts, Mutation{Key: []byte(k), Value: []byte(k)})
	}
	if _, err := s.Commit1PC(ctx, p, &CommitRequest{TxnID: mvcc.TxnID{1}, ReadTS: clock.Now(), Writes: muts}); err != nil {
		t.Fatal(err)
	}

	// A commit of "y" in flight: its write latch is held until release.
	repl.gate, repl.release = make(chan struct{}), make(chan struct{})
	committed := make(chan error, 1)
	go func() {
		_, err := s.Commit1PC(ctx, p, &CommitRequest{TxnID: mvcc.TxnID{2}, ReadTS: clock.Now(), Writes: []Mutation{{Key: []byte("y"), Value: []byte("y")}}})
		committed <- err
	}()
	<-repl.gate

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kvs, resume, err := s.Scan(sctx, p, []byte("a"), []byte("z"), clock.Now(), mvcc.ScanOptions{MaxKeys: 2})
	if err != nil {
		t.Fatalf("limited scan waited for a write beyond what it reads: %v", err)
	}
	if len(kvs) != 2 || string(kvs[0].Key) != "a" || string(kvs[1].Key) != "b" || string(resume) != "c" {
		t.Fatalf("limited scan = %v resume %q, want a, b and resume c", kvs, resume)
	}
	// An unlimited scan of the span reads "y" too: it must wait for the
	// write (its context ends first).
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, _, err := s.Scan(short, p, []byte("a"), []byte("z"), clock.Now(), mvcc.ScanOptions{}); err == nil {
		t.Fatal("an unlimited scan over the in-flight write did not wait for it")
	}
	close(repl.release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	repl.gate = nil
	// A limited scan whose extent ends exactly at the end of what is there
	// still reports where to continue.
	kvs, resume, err = s.Scan(ctx, p, []byte("a"), []byte("z"), clock.Now(), mvcc.ScanOptions{MaxKeys: 4})
	if err != nil || len(kvs) != 4 || string(resume) != "y" {
		t.Fatalf("scan of 4 = %d rows, resume %q, %v; want 4 rows and resume y", len(kvs), resume, err)
	}
	kvs, resume, err = s.Scan(ctx, p, []byte("y"), []byte("z"), clock.Now(), mvcc.ScanOptions{MaxKeys: 4})
	if err != nil || len(kvs) != 1 || resume != nil {
		t.Fatalf("rest of the scan = %d rows, resume %q, %v", len(kvs), resume, err)
	}
}

// TestScanLetsWritesAboveItPass: while a long NonBlocking scan at t holds
// its latch (its visit blocked), a commit whose writes land above t goes
// through without waiting, and the scan does not see it; a commit that
// could land at or below t waits for the scan and is then pushed above it
// by the timestamp cache. A scan without the option holds up both.
func TestScanLetsWritesAboveItPass(t *testing.T) {
	eng, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	clock := hlc.NewClock(nil)
	s := New(eng, clock, &gatedReplicator{engine: eng})
	ctx := context.Background()
	const p = 1
	var muts []Mutation
	for _, k := range []string{"a", "b", "c", "x"} {
		muts = append(muts, Mutation{Key: []byte(k), Value: []byte(k)})
	}
	if _, err := s.Commit1PC(ctx, p, &CommitRequest{TxnID: mvcc.TxnID{1}, ReadTS: clock.Now(), Writes: muts}); err != nil {
		t.Fatal(err)
	}
	type scanResult struct {
		values []string
		err    error
	}
	// holdScan starts a scan of [a, z) at scanTS that stops in its first
	// visit until release is closed.
	holdScan := func(scanTS hlc.Timestamp, nonBlocking bool) (release chan struct{}, scanned chan scanResult) {
		inScan := make(chan struct{})
		release, scanned = make(chan struct{}), make(chan scanResult, 1)
		go func() {
			var r scanResult
			_, r.err = s.ScanValues(ctx, p, []byte("a"), []byte("z"), scanTS, mvcc.ScanOptions{ValuesOnly: true, NonBlocking: nonBlocking}, func(v []byte) error {
				if len(r.values) == 0 {
					close(inScan)
					<-release
				}
				r.values = append(r.values, string(v))
				return nil
			})
			scanned <- r
		}()
		<-inScan // the scan holds its latch over [a, z)
		return release, scanned
	}
	commitWithin := func(d time.Duration, id byte, readTS hlc.Timestamp, key string) (hlc.Timestamp, error) {
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return s.Commit1PC(cctx, p, &CommitRequest{TxnID: mvcc.TxnID{id}, ReadTS: readTS, Writes: []Mutation{{Key: []byte(key), Value: []byte(key)}}})
	}

	scanTS := clock.Now()
	release, scanned := holdScan(scanTS, true)
	// Above the scan: no wait (a wait would last until the context ends).
	if _, err := commitWithin(10*time.Second, 2, clock.Now(), "m"); err != nil {
		t.Fatalf("a write above the scan's timestamp waited for the scan: %v", err)
	}
	// At the scan's timestamp: it must wait.
	if _, err := commitWithin(50*time.Millisecond, 3, scanTS, "n"); err == nil {
		t.Fatal("a write at the scan's timestamp did not wait for the scan")
	}
	close(release)
	r := <-scanned
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := fmt.Sprint(r.values); got != "[a b c x]" {
		t.Fatalf("scan at %v read %s, want [a b c x] (nothing written above it)", scanTS, got)
	}
	ts, err := commitWithin(10*time.Second, 3, scanTS, "n")
	if err != nil {
		t.Fatal(err)
	}
	if !scanTS.Less(ts) {
		t.Fatalf("write after the scan committed at %v, not above the scan's %v", ts, scanTS)
	}

	// Without NonBlocking, even a write above the scan waits.
	release, scanned = holdScan(clock.Now(), false)
	if _, err := commitWithin(50*time.Millisecond, 4, clock.Now(), "o"); err == nil {
		t.Fatal("a write above a blocking scan did not wait for it")
	}
	close(release)
	if r := <-scanned; r.err != nil {
		t.Fatal(r.err)
	}
}
