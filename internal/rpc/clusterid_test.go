package rpc

import (
	"fmt"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/testutil"

	"github.com/camusdb/camusdb-go/internal/replica"
)

// TestClusterIDMismatchRefused: nodes that name the same cluster, or one
// that knows no cluster id yet (a cluster being bootstrapped), exchange
// messages; a node that names another cluster can neither send to the
// others nor receive from them.
func TestClusterIDMismatchRefused(t *testing.T) {
	nodes := newTestNodes(t, 4, nil)
	nodes[0].net.SetClusterID("aaaa")
	nodes[1].net.SetClusterID("aaaa")
	nodes[2].net.SetClusterID("bbbb")
	// nodes[3] knows none.
	if got := nodes[2].net.ClusterID(); got != "bbbb" {
		t.Fatalf("ClusterID = %q", got)
	}

	nodes[0].transport.Send([]replica.Message{msg(2, 1)})
	h2 := nodes[1].handler
	h2.waitFor(t, "a message within one cluster", func() bool { return len(h2.got) == 1 })
	nodes[3].transport.Send([]replica.Message{msg(2, 1)})
	h2.waitFor(t, "a message from a node that knows no cluster id yet", func() bool { return len(h2.got) == 2 })

	// A refused stream fails on the sends after the first: keep sending.
	refused := func(from *testNode, to uint64) func() error {
		return func() error {
			from.transport.Send([]replica.Message{msg(to, 2)})
			from.handler.mu.Lock()
			defer from.handler.mu.Unlock()
			if !from.handler.unreachable[to] {
				return fmt.Errorf("node %d still reachable", to)
			}
			return nil
		}
	}
	testutil.SucceedsSoon(t, 10*time.Second, refused(nodes[2], 1))
	testutil.SucceedsSoon(t, 10*time.Second, refused(nodes[0], 3))
	h1 := nodes[0].handler
	h1.mu.Lock()
	got := len(h1.got)
	h1.mu.Unlock()
	if got != 0 {
		t.Fatalf("node 1 received %d messages from a node of another cluster", got)
	}
}
