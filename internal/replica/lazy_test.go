package replica

import (
	"context"
	"testing"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// TestLazyCommands: in a single-voter group a lazy command is applied
// without an fsync, a durable one costs one; a crash keeps every durable
// command and every lazy one written before it, and may drop a lazy tail.
func TestLazyCommands(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewCrashableMemFS()
	eng := openTestEngine(t, storage.Options{Dir: "db", FS: fs})
	s := startStore(t, Config{Engine: eng, Partitions: 2})

	lazy := func(partitionID uint64, k string) {
		t.Helper()
		cmd := put(partitionID, k, k)
		cmd.Lazy = true
		if err := s.Propose(ctx, partitionID, cmd); err != nil {
			t.Fatal(err)
		}
	}
	before := s.Metrics().Syncs
	lazy(1, "a")
	lazy(2, "b")
	if got := s.Metrics().Syncs; got != before {
		t.Fatalf("lazy commands fsynced: %d -> %d", before, got)
	}
	if got := mustGet(t, eng, dataKey(1, "a")); got != "a" {
		t.Fatalf("lazy command not applied: %q", got)
	}
	if err := s.Propose(ctx, 1, put(1, "c", "c")); err != nil {
		t.Fatal(err)
	}
	if got := s.Metrics().Syncs; got == before {
		t.Fatal("a durable command was not fsynced")
	}
	lazy(2, "tail")
	image := storage.CrashClone(fs)
	s.Stop()
	_ = eng.Close()

	eng2 := openTestEngine(t, storage.Options{Dir: "db", FS: image})
	defer eng2.Close()
	s2 := startStore(t, Config{Engine: eng2, Partitions: 2})
	defer s2.Stop()
	for _, pk := range []struct {
		p uint64
		k string
	}{{1, "a"}, {2, "b"}, {1, "c"}} {
		if got := mustGet(t, eng2, dataKey(pk.p, pk.k)); got != pk.k {
			t.Fatalf("%d/%s = %q after the crash", pk.p, pk.k, got)
		}
	}
	for _, id := range s2.PartitionIDs() {
		st, _ := s2.Status(id)
		if st.AppliedIndex != st.CommitIndex || st.AppliedIndex != st.LastIndex {
			t.Fatalf("partition %d after recovery: %+v", id, st)
		}
	}
}
