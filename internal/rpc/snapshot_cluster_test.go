package rpc

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// gateHandler drops every incoming message while closed.
type gateHandler struct {
	inner  RaftHandler
	closed atomic.Bool
}

func (g *gateHandler) Step(partitionID uint64, m *raftpb.Message) error {
	if g.closed.Load() {
		return nil
	}
	return g.inner.Step(partitionID, m)
}

func (g *gateHandler) ReportUnreachable(partitionID, nodeID uint64) {
	g.inner.ReportUnreachable(partitionID, nodeID)
}

// spanCRC is the CRC-32C of a partition's data span (keys and values).
func spanCRC(t *testing.T, eng *storage.Engine, partitionID uint64) (uint32, int) {
	t.Helper()
	start, end := storage.DataSpan(partitionID)
	it, err := eng.NewIter(start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	crc, n := crc32.New(crcTable), 0
	for ok := it.First(); ok; ok = it.Next() {
		_, _ = crc.Write(it.Key())
		_, _ = crc.Write(it.Value())
		n++
	}
	return crc.Sum32(), n
}

// TestStreamedSnapshotInCluster: three replica stores over this transport.
// Node 3 hears nothing while partition 1 takes 3 MiB of writes and
// truncates its log, so it needs a snapshot larger than three chunks.
// That snapshot is held after its first chunk: meanwhile partition 2
// keeps committing, node 3 included. Released, the snapshot arrives and
// node 3's partition 1 has the same data as the leader's.
func TestStreamedSnapshotInCluster(t *testing.T) {
	nodes := newTestNodes(t, 3, nil)
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	for _, n := range nodes[:2] {
		n.transport.onSnapshotChunk = func(partitionID, total uint64) {
			if partitionID == 1 {
				once.Do(func() {
					close(blocked)
					<-release
				})
			}
		}
	}
	var released sync.Once
	defer released.Do(func() { close(release) })

	peers := []replica.Peer{{ID: 1, Addr: "n1"}, {ID: 2, Addr: "n2"}, {ID: 3, Addr: "n3"}}
	stores := make([]*replica.Store, 3)
	engines := make([]*storage.Engine, 3)
	gates := make([]*gateHandler, 3)
	for i := range 3 {
		eng, err := storage.Open(storage.Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = eng
		s, err := replica.NewStore(replica.Config{
			NodeID: uint64(i + 1), Peers: peers, Engine: eng, Partitions: 2, Transport: nodes[i].transport,
			TruncateEntries: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
		gates[i] = &gateHandler{inner: s}
		nodes[i].transport.SetHandler(gates[i])
	}
	gates[2].closed.Store(true)
	for _, s := range stores {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i, s := range stores {
			s.Stop()
			_ = engines[i].Close()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// propose retries on the node that leads the partition.
	propose := func(partitionID uint64, key string, value []byte) *replica.Store {
		t.Helper()
		start, _ := storage.DataSpan(partitionID)
		cmd := replica.Command{Writes: []replica.Write{{Key: append(bytes.Clone(start), key...), Value: value}}}
		var leader *replica.Store
		testutil.SucceedsSoon(t, 30*time.Second, func() error {
			for _, s := range stores[:2] {
				if st, err := s.Status(partitionID); err == nil && st.Ready {
					if err := s.Propose(ctx, partitionID, cmd); err != nil {
						return err
					}
					leader = s
					return nil
				}
			}
			return fmt.Errorf("no ready leader of partition %d", partitionID)
		})
		return leader
	}
	var leader *replica.Store
	for i := range 300 {
		leader = propose(1, fmt.Sprintf("k%04d", i), bytes.Repeat([]byte{byte(i)}, 10<<10))
	}
	if st, _ := leader.Status(1); st.FirstIndex < 100 {
		t.Fatalf("partition 1's log was not truncated: first index %d", st.FirstIndex)
	}

	gates[2].closed.Store(false) // node 3 comes back and needs a snapshot
	select {
	case <-blocked:
	case <-ctx.Done():
		t.Fatal("no snapshot was sent to node 3")
	}
	// Partition 2 commits on every node, node 3 included, while the
	// snapshot is held.
	p2 := propose(2, "during", []byte("snapshot"))
	st2, _ := p2.Status(2)
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if st, err := stores[2].Status(2); err != nil || st.AppliedIndex < st2.AppliedIndex {
			return fmt.Errorf("node 3 has applied partition 2 up to %d of %d (%v)", st.AppliedIndex, st2.AppliedIndex, err)
		}
		return nil
	})
	if st, _ := stores[2].Status(1); st.AppliedIndex >= 100 {
		t.Fatalf("node 3 applied partition 1 up to %d before the snapshot was released", st.AppliedIndex)
	}

	released.Do(func() { close(release) })
	st1, _ := leader.Status(1)
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if st, err := stores[2].Status(1); err != nil || st.AppliedIndex < st1.AppliedIndex {
			return fmt.Errorf("node 3 has applied partition 1 up to %d of %d (%v)", st.AppliedIndex, st1.AppliedIndex, err)
		}
		return nil
	})
	leaderEngine := engines[0]
	if leader == stores[1] {
		leaderEngine = engines[1]
	}
	// The leader may apply more (lease extensions) between the two reads:
	// the replicas must converge, not match at one instant.
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		wantCRC, wantKeys := spanCRC(t, leaderEngine, 1)
		gotCRC, gotKeys := spanCRC(t, engines[2], 1)
		if wantKeys < 300 || gotCRC != wantCRC || gotKeys != wantKeys {
			return fmt.Errorf("partition 1 on node 3: %d keys crc %x, leader's %d keys crc %x", gotKeys, gotCRC, wantKeys, wantCRC)
		}
		return nil
	})
	if m := stores[2].Metrics(); m.SnapshotsApplied == 0 {
		t.Fatal("node 3 caught up without a snapshot")
	}
}
