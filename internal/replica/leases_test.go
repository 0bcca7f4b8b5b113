package replica

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// admits reports whether node id admits a request for the partition now.
func (c *testCluster) admits(id, partitionID uint64) error {
	s := c.stores[id]
	if s == nil {
		return fmt.Errorf("node %d is stopped", id)
	}
	_, release, err := s.Admit(partitionID)
	if err != nil {
		return err
	}
	release()
	return nil
}

// leaseholder waits until exactly one node admits requests and returns it.
func (c *testCluster) leaseholder(partitionID uint64) uint64 {
	var holder uint64
	succeedsSoon(c.t, 20*time.Second, func() error {
		holder = 0
		for _, id := range c.ids {
			if c.admits(id, partitionID) == nil {
				if holder != 0 {
					return fmt.Errorf("nodes %d and %d both admit", holder, id)
				}
				holder = id
			}
		}
		if holder == 0 {
			return errors.New("no node admits")
		}
		return nil
	})
	return holder
}

// newManualClockCluster starts 3 stores, one partition, no leadership
// balancing, every node reading one manual wall clock that only the test
// moves.
func newManualClockCluster(t *testing.T) (*testCluster, *hlc.ManualClock, Config) {
	wall := hlc.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	cfg := clusterConfig()
	cfg.Partitions = 1
	cfg.DisableLeaderBalancing = true
	cfg.Clock = hlc.NewClock(wall.UnixNano)
	return newTestCluster(t, 3, cfg), wall, cfg
}

// The stale-read hazard: a leaseholder cut off from the others keeps
// believing it leads until CheckQuorum steps it down, and a new leader is
// elected meanwhile. Time is the test's (one manual clock for every node):
// the new leader serves nothing while the old lease lasts, and once the
// clock passes it, the old holder serves nothing either — at no moment do
// two nodes admit requests.
func TestLeaseIsolatedHolderStopsBeforeSuccessorServes(t *testing.T) {
	c, wall, cfg := newManualClockCluster(t)

	old := c.leaseholder(1)
	c.propose(1, put(1, "k", "v1"))
	c.net.isolate(old, c.ids, true)

	// The majority elects a leader, which may not serve: the old lease has
	// not expired by the clock.
	var successor uint64
	succeedsSoon(t, 20*time.Second, func() error {
		for _, id := range c.ids {
			if id == old {
				continue
			}
			if st, err := c.stores[id].Status(1); err == nil && st.Ready {
				successor = id
				return nil
			}
		}
		return errors.New("no new leader yet")
	})
	var retry *kvpb.RetryError
	if err := c.admits(successor, 1); !errors.As(err, &retry) {
		t.Fatalf("new leader admits under the old lease: %v", err)
	}

	// Time passes beyond the old lease: the old holder stops at once (even
	// if it still thinks it leads), and only then does the successor
	// acquire a lease of its own.
	wall.Increment(cfg.LeaseDuration + cfg.MaxClockOffset)
	if err := c.admits(old, 1); !errors.As(err, &retry) {
		t.Fatalf("isolated holder admits after its lease expired: %v", err)
	}
	if got := c.leaseholder(1); got != successor {
		t.Fatalf("leaseholder %d, want the new leader %d", got, successor)
	}
	st, _ := c.stores[successor].Status(1)
	if st.Lease.Holder != successor || st.Lease.Seq < 2 {
		t.Fatalf("successor's lease %v", st.Lease)
	}
	c.propose(1, put(1, "k", "v2"))

	// Healed, the old node follows and still admits nothing.
	c.net.isolate(old, c.ids, false)
	c.converged(1)
	if err := c.admits(old, 1); err == nil {
		t.Fatal("healed old holder admits")
	}
	ost, _ := c.stores[old].Status(1)
	if ost.Lease.Holder != successor || ost.Lease.Seq != st.Lease.Seq {
		t.Fatalf("old node's lease record %v behind %v", ost.Lease, st.Lease)
	}
}

// A holder extends its lease as the clock moves, without any request.
func TestLeaseExtendedByHolder(t *testing.T) {
	c, wall, cfg := newManualClockCluster(t)
	holder := c.leaseholder(1)
	st, _ := c.stores[holder].Status(1)
	first := st.Lease
	for range 5 {
		wall.Increment(cfg.LeaseDuration / 3)
		succeedsSoon(t, 10*time.Second, func() error { return c.admits(holder, 1) })
	}
	st, _ = c.stores[holder].Status(1)
	if st.Lease.Seq != first.Seq || !first.Expiration.Less(st.Lease.Expiration) {
		t.Fatalf("lease %v not extended from %v", st.Lease, first)
	}
}

// A restarted holder forgot what it served: it may not use its old lease,
// and re-acquires only once that lease has expired.
func TestLeaseRestartedHolderWaitsForExpiry(t *testing.T) {
	c, wall, cfg := newManualClockCluster(t)
	holder := c.leaseholder(1)
	st, _ := c.stores[holder].Status(1)
	c.stop(holder)
	c.start(holder)
	// Whoever leads now, nobody admits until the clock passes the lease.
	c.leader(1)
	for _, id := range c.ids {
		if err := c.admits(id, 1); err == nil {
			t.Fatalf("node %d admits under the lease of a dead incarnation", id)
		}
	}
	wall.Increment(cfg.LeaseDuration + cfg.MaxClockOffset)
	c.leaseholder(1)
	for _, id := range c.ids {
		if nst, _ := c.stores[id].Status(1); nst.Ready && nst.Lease.Seq <= st.Lease.Seq {
			t.Fatalf("leader %d serves lease %v, not newer than %v", id, nst.Lease, st.Lease)
		}
	}
}

// Replicas at the same applied index have the same checksum, and a
// divergence (a key written behind Raft's back on one node) shows.
func TestClusterChecksumsAgree(t *testing.T) {
	cfg := clusterConfig()
	cfg.Partitions = 1
	c := newTestCluster(t, 3, cfg)
	for i := range 10 {
		c.propose(1, put(1, fmt.Sprintf("k%d", i), "v"))
	}
	c.converged(1)
	sameIndex := func() map[uint64]Checksum {
		var sums map[uint64]Checksum
		succeedsSoon(t, 20*time.Second, func() error {
			sums = map[uint64]Checksum{}
			for _, id := range c.ids {
				cs, err := c.stores[id].Checksum(1)
				if err != nil {
					return err
				}
				sums[id] = cs
			}
			if sums[1].AppliedIndex != sums[2].AppliedIndex || sums[2].AppliedIndex != sums[3].AppliedIndex {
				return fmt.Errorf("applied indexes differ: %+v", sums)
			}
			return nil
		})
		return sums
	}
	sums := sameIndex()
	if sums[1].Sum != sums[2].Sum || sums[2].Sum != sums[3].Sum || sums[1].Keys < 10 {
		t.Fatalf("replicas at one index differ: %+v", sums)
	}
	b := c.engines[3].NewBatch()
	_ = b.Set(dataKey(1, "rogue"), []byte("x"))
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	sums = sameIndex()
	if sums[3].Sum == sums[1].Sum {
		t.Fatalf("a divergent replica has the same checksum: %+v", sums)
	}
}
