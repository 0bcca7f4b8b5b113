package replica

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

func TestStandaloneProposeRestart(t *testing.T) {
	dir := t.TempDir()
	eng := openTestEngine(t, storage.Options{Dir: dir})
	defer eng.Close()
	start := time.Now()
	s := startStore(t, Config{Engine: eng, Partitions: 1})
	t.Logf("standalone ready in %s", time.Since(start))
	ctx := context.Background()
	for i := range 100 {
		if err := s.Propose(ctx, 1, put(1, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
		// Applied means visible in the engine right away.
		if got := mustGet(t, eng, dataKey(1, fmt.Sprintf("k%03d", i))); got != fmt.Sprintf("v%d", i) {
			t.Fatalf("got %q", got)
		}
	}
	if err := s.Propose(ctx, 1, Command{Writes: []Write{{Key: dataKey(1, "k000"), Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Status(1)
	if err != nil {
		t.Fatal(err)
	}
	if !before.Leader || !before.Ready || before.LeaderID != 1 || before.AppliedIndex < 102 {
		t.Fatalf("status %+v", before)
	}
	s.Stop()
	if err := s.Propose(ctx, 1, put(1, "late", "x")); !kvpb.IsRetryable(err) {
		t.Fatalf("propose after stop: %v", err)
	}

	// Restart on the same directory; the bootstrap config is ignored.
	_ = eng.Close()
	eng = openTestEngine(t, storage.Options{Dir: dir})
	defer eng.Close()
	s = startStore(t, Config{Engine: eng, Partitions: 9})
	defer s.Stop()
	if ids := s.PartitionIDs(); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("partitions after restart: %v", ids)
	}
	after, err := s.Status(1)
	if err != nil {
		t.Fatal(err)
	}
	if after.AppliedIndex <= before.AppliedIndex || after.Term <= before.Term {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	for i := 1; i < 100; i++ {
		if got := mustGet(t, eng, dataKey(1, fmt.Sprintf("k%03d", i))); got != fmt.Sprintf("v%d", i) {
			t.Fatalf("k%03d = %q after restart", i, got)
		}
	}
	if _, found, _ := eng.Get(dataKey(1, "k000")); found {
		t.Fatal("deleted key came back after restart")
	}
}

func TestRestartWithOtherNodeIDRefused(t *testing.T) {
	eng := openTestEngine(t, storage.Options{Dir: t.TempDir()})
	defer eng.Close()
	s := startStore(t, Config{Engine: eng, Partitions: 1})
	s.Stop()
	if _, err := NewStore(Config{NodeID: 2, Engine: eng, Logger: quietLogger()}); err == nil {
		t.Fatal("store opened an engine bootstrapped by another node")
	}
}

// TestGroupCommit proposes from many goroutines on a real directory and
// checks that fsyncs are shared: far fewer syncs than proposals.
func TestGroupCommit(t *testing.T) {
	eng := openTestEngine(t, storage.Options{Dir: t.TempDir()})
	defer eng.Close()
	s := startStore(t, Config{Engine: eng, Partitions: 1})
	defer s.Stop()
	const workers, each = 32, 40
	before, walBefore := s.Metrics(), eng.Stats().WALSyncs
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.Propose(context.Background(), 1, put(1, fmt.Sprintf("w%d-%d", w, i), "v")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	after := s.Metrics()
	// Appends are pipelined: each driver iteration's append asks for an
	// fsync without waiting, and the engine shares one fsync among all
	// the appends that came while the one before it ran.
	syncs := eng.Stats().WALSyncs - walBefore
	proposals := after.Proposals - before.Proposals
	t.Logf("%d proposals, %d synced appends, %d WAL fsyncs, %d loop iterations",
		proposals, after.Syncs-before.Syncs, syncs, after.LoopIterations-before.LoopIterations)
	if proposals != workers*each {
		t.Fatalf("proposals = %d", proposals)
	}
	if syncs*4 > proposals {
		t.Fatalf("no group commit: %d fsyncs for %d proposals", syncs, proposals)
	}
	// Proposals that come while an append's fsync runs wait and share the
	// next append (not one append and engine commit each).
	if appends := after.Syncs - before.Syncs; appends*4 > proposals {
		t.Fatalf("%d synced appends for %d proposals: proposals are not gathered while an fsync runs", appends, proposals)
	}
}

// TestCrashKeepsAcknowledgedWrites crashes the filesystem (keeping only
// synced data) while proposals are running: every Propose that returned
// nil before the crash must be there after recovery.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	fs := storage.NewCrashableMemFS()
	eng := openTestEngine(t, storage.Options{Dir: "db", FS: fs})
	s := startStore(t, Config{Engine: eng, Partitions: 2})

	var (
		mu      sync.Mutex
		acked   []string // keys acknowledged before the crash
		crashed atomic.Bool
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				partitionID := uint64(1 + (w+i)%2)
				key := fmt.Sprintf("w%d-%d", w, i)
				err := s.Propose(context.Background(), partitionID, put(partitionID, key, key))
				if err != nil {
					return // the store stopped
				}
				mu.Lock()
				if !crashed.Load() {
					acked = append(acked, fmt.Sprintf("%d/%s", partitionID, key))
				}
				mu.Unlock()
			}
		})
	}
	succeedsSoon(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 2000 {
			return fmt.Errorf("%d acked", len(acked))
		}
		return nil
	})
	// Freeze the acknowledged set, then crash: whatever was acked is older
	// than the crash image.
	mu.Lock()
	crashed.Store(true)
	mustSurvive := append([]string(nil), acked...)
	mu.Unlock()
	image := storage.CrashClone(fs)
	stop.Store(true)
	wg.Wait()
	s.Stop()
	_ = eng.Close()

	eng2 := openTestEngine(t, storage.Options{Dir: "db", FS: image})
	defer eng2.Close()
	s2 := startStore(t, Config{Engine: eng2, Partitions: 2})
	defer s2.Stop()
	for _, pk := range mustSurvive {
		var partitionID uint64
		var key string
		if _, err := fmt.Sscanf(pk, "%d/%s", &partitionID, &key); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, eng2, dataKey(partitionID, key)); got != key {
			t.Fatalf("%s = %q", pk, got)
		}
	}
	for _, id := range s2.PartitionIDs() {
		st, _ := s2.Status(id)
		if st.AppliedIndex != st.CommitIndex || st.AppliedIndex != st.LastIndex {
			t.Fatalf("partition %d after recovery: %+v", id, st)
		}
	}
	t.Logf("%d acknowledged writes survived the crash", len(mustSurvive))
}

// TestTruncationKeepsLogShort runs 20 000 proposals with a small truncation
// threshold, checks the log stays short, and restarts.
func TestTruncationKeepsLogShort(t *testing.T) {
	fs := storage.NewCrashableMemFS()
	eng := openTestEngine(t, storage.Options{Dir: "db", FS: fs})
	const limit = 500
	s := startStore(t, Config{Engine: eng, Partitions: 1, TruncateEntries: limit})
	const workers, each = 16, 1250
	var wg sync.WaitGroup
	var maxLen atomic.Uint64
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.Propose(context.Background(), 1, put(1, fmt.Sprintf("w%02d-%04d", w, i), "v")); err != nil {
					errs <- err
					return
				}
				if st, _ := s.Status(1); st.LastIndex-st.FirstIndex+1 > maxLen.Load() {
					maxLen.Store(st.LastIndex - st.FirstIndex + 1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _ := s.Status(1)
	m := s.Metrics()
	t.Logf("status %+v, max log length %d, truncations %d", st, maxLen.Load(), m.Truncations)
	if st.AppliedIndex < workers*each || m.Truncations == 0 {
		t.Fatalf("status %+v metrics %+v", st, m)
	}
	// The log holds at most `limit` applied entries plus what was in flight.
	if maxLen.Load() > limit+2*workers+2 {
		t.Fatalf("log grew to %d entries (limit %d)", maxLen.Load(), limit)
	}
	s.Stop()
	// Crash rather than close: recovery must work from synced state only.
	image := storage.CrashClone(fs)
	_ = eng.Close()
	eng2 := openTestEngine(t, storage.Options{Dir: "db", FS: image})
	defer eng2.Close()
	s2 := startStore(t, Config{Engine: eng2, TruncateEntries: limit})
	defer s2.Stop()
	if n := len(dumpSpan(t, eng2, 1)); n != workers*each {
		t.Fatalf("%d keys after restart", n)
	}
	st2, _ := s2.Status(1)
	if st2.FirstIndex <= 1 || st2.AppliedIndex <= st.AppliedIndex {
		t.Fatalf("after restart %+v (before %+v)", st2, st)
	}
}

func TestFourPartitions(t *testing.T) {
	eng := openTestEngine(t, storage.Options{InMemory: true})
	defer eng.Close()
	s := startStore(t, Config{Engine: eng, Partitions: 4})
	defer s.Stop()
	ids := s.PartitionIDs()
	if len(ids) != 4 || ids[0] != 1 || ids[3] != 4 {
		t.Fatalf("ids %v", ids)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			partitionID := uint64(1 + w%4)
			for i := range 50 {
				if err := s.Propose(context.Background(), partitionID, put(partitionID, fmt.Sprintf("w%d-%d", w, i), "v")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		if n := len(dumpSpan(t, eng, id)); n != 4*50 {
			t.Fatalf("partition %d holds %d keys", id, n)
		}
		if st, _ := s.Status(id); !st.Ready || st.AppliedIndex < 201 {
			t.Fatalf("partition %d: %+v", id, st)
		}
	}
	// A write for partition 2 proposed to partition 1 is a caller bug.
	if err := s.Propose(context.Background(), 1, put(2, "x", "y")); !errors.Is(err, ErrKeyOutsidePartition) {
		t.Fatalf("cross-partition write: %v", err)
	}
	if err := s.Propose(context.Background(), 5, put(5, "x", "y")); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("unknown partition: %v", err)
	}
	if _, err := s.Status(0); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("status of unknown partition: %v", err)
	}
}

func TestProposeErrors(t *testing.T) {
	eng := openTestEngine(t, storage.Options{InMemory: true})
	defer eng.Close()
	s := startStore(t, Config{Engine: eng, Partitions: 1})
	defer s.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Propose(ctx, 1, put(1, "a", "b")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	st, _ := s.Status(1)
	cmd := put(1, "a", "b")
	cmd.EvalTerm = st.Term + 1
	var retry *kvpb.RetryError
	if err := s.Propose(context.Background(), 1, cmd); !errors.As(err, &retry) {
		t.Fatalf("stale eval term: %v", err)
	}
	cmd.EvalTerm = st.Term
	if err := s.Propose(context.Background(), 1, cmd); err != nil {
		t.Fatalf("current eval term: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	eng := openTestEngine(t, storage.Options{InMemory: true})
	defer eng.Close()
	bad := []Config{
		{Engine: eng, Partitions: 1}, // no node id
		{NodeID: 1, Partitions: 1},   // no engine
		{NodeID: 1, Engine: eng, ElectionTicks: 2, HeartbeatTicks: 2},
		{NodeID: 1, Engine: eng, Peers: []Peer{{ID: 2}, {ID: 3}}}, // self missing
		{NodeID: 1, Engine: eng, Peers: []Peer{{ID: 1}, {ID: 2}}}, // no transport
		{NodeID: 1, Engine: eng, Partitions: 0},                   // nothing to bootstrap
	}
	for i, cfg := range bad {
		cfg.Logger = quietLogger()
		if _, err := NewStore(cfg); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
}

// A command over MaxCommandBytes is refused before Raft, naming the
// limit; the partition keeps committing.
func TestProposeOverCommandLimit(t *testing.T) {
	eng := openTestEngine(t, storage.Options{InMemory: true})
	defer eng.Close()
	const limit = 64 << 10
	s := startStore(t, Config{Engine: eng, Partitions: 1, MaxCommandBytes: limit})
	defer s.Stop()
	ctx := context.Background()
	big := Command{Writes: []Write{{Key: dataKey(1, "big"), Value: make([]byte, limit)}}}
	var tooLarge *kvpb.CommandTooLargeError
	if err := s.Propose(ctx, 1, big); !errors.As(err, &tooLarge) || tooLarge.Limit != limit || tooLarge.Size <= limit ||
		!strings.Contains(err.Error(), "raft_max_command_bytes") {
		t.Fatalf("command over the limit: %v", err)
	}
	if err := s.Propose(ctx, 1, put(1, "small", "v")); err != nil {
		t.Fatalf("after a refused command: %v", err)
	}
	if got := mustGet(t, eng, dataKey(1, "small")); got != "v" {
		t.Fatalf("small = %q", got)
	}
	if _, found, err := eng.Get(dataKey(1, "big")); found || err != nil {
		t.Fatalf("the refused command was applied (found=%v, err=%v)", found, err)
	}
}
