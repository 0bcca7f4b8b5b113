package replica

import (
	"context"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// dataKey returns a full engine key in the partition's data span.
func dataKey(partitionID uint64, k string) []byte {
	start, _ := storage.DataSpan(partitionID)
	return append(start, k...)
}

func put(partitionID uint64, k, v string) Command {
	return Command{Writes: []Write{{Key: dataKey(partitionID, k), Value: []byte(v)}}}
}

// succeedsSoon polls fn until it returns nil or the deadline passes.
func succeedsSoon(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	testutil.SucceedsSoon(t, timeout, fn)
}

func openTestEngine(t testing.TB, opts storage.Options) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// startStore creates and starts a store and waits until it leads every
// partition (standalone).
func startStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.NodeID == 0 {
		cfg.NodeID = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if cfg.Transport == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, id := range s.PartitionIDs() {
			if err := s.WaitReady(ctx, id); err != nil {
				s.Stop()
				t.Fatalf("partition %d not ready: %v", id, err)
			}
		}
	}
	return s
}

func mustGet(t testing.TB, eng *storage.Engine, key []byte) string {
	t.Helper()
	v, found, err := eng.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("key %q not found", key)
	}
	return string(v)
}

// dumpSpan returns every key/value of a partition's data span.
func dumpSpan(t testing.TB, eng *storage.Engine, partitionID uint64) map[string]string {
	t.Helper()
	start, end := storage.DataSpan(partitionID)
	it, err := eng.NewIter(start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[string]string{}
	lk := string(leaseKey(partitionID))
	for ok := it.First(); ok; ok = it.Next() {
		if string(it.Key()) == lk {
			continue // the lease record: replicated state, not the test's data
		}
		out[string(it.Key())] = string(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameMaps(a, b map[string]string) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d keys vs %d keys", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			return fmt.Errorf("key %q: %q vs %q", k, v, b[k])
		}
	}
	return nil
}
