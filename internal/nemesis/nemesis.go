package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"time"
)

// A Nemesis breaks the cluster, one fault at a time.
type Nemesis interface {
	Name() string
	// Configure adjusts the cluster before it starts (e.g. clock offsets).
	Configure(opts *ClusterOptions)
	// Fault injects one fault, lets it last, repairs it and describes it.
	// It returns early (repaired) when ctx ends.
	Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error)
}

// Nemeses are the suite's nemeses.
func Nemeses() []Nemesis {
	return []Nemesis{killNemesis{}, pauseNemesis{}, partitionNemesis{}, skewNemesis{}, stormNemesis{}}
}

// hold waits d or until ctx ends.
func hold(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// between returns a duration in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int63n(int64(hi-lo)))
}

// leaderOf asks the running nodes which node (index) leads the partition;
// -1 if none knows.
func leaderOf(c *Cluster, partitionID uint64) int {
	hc := c.HTTPClient(time.Second)
	defer hc.CloseIdleConnections()
	for _, n := range c.Nodes {
		resp, err := c.Get(hc, n, "/cluster/status")
		if err != nil {
			continue
		}
		var st struct {
			Partitions []struct{ ID, Leader uint64 } `json:"partitions"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		_ = resp.Body.Close()
		if err != nil {
			continue
		}
		for _, p := range st.Partitions {
			if p.ID == partitionID && p.Leader != 0 {
				return int(p.Leader) - 1
			}
		}
	}
	return -1
}

// leaderOrRandom picks the leader of a random partition, or any node.
func leaderOrRandom(c *Cluster, rng *rand.Rand) int {
	if i := leaderOf(c, uint64(rng.Intn(c.opts.Partitions)+1)); i >= 0 {
		return i
	}
	return rng.Intn(len(c.Nodes))
}

// killNemesis: kill -9 a node, then restart it.
type killNemesis struct{}

func (killNemesis) Name() string                   { return "kill" }
func (killNemesis) Configure(opts *ClusterOptions) {}
func (killNemesis) Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	i := leaderOrRandom(c, rng)
	c.Kill(i)
	hold(ctx, between(rng, 500*time.Millisecond, 2*time.Second))
	if err := c.Restart(i); err != nil {
		return "", err
	}
	return fmt.Sprintf("kill -9 n%d, restart", i+1), nil
}

// pauseNemesis: SIGSTOP a (usually leading) node past an election and its
// lease, then SIGCONT it.
type pauseNemesis struct{}

func (pauseNemesis) Name() string                   { return "pause" }
func (pauseNemesis) Configure(opts *ClusterOptions) {}
func (pauseNemesis) Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	i := leaderOrRandom(c, rng)
	c.Pause(i)
	d := between(rng, time.Second, 4*time.Second)
	hold(ctx, d)
	c.Resume(i)
	return fmt.Sprintf("pause n%d %v", i+1, d.Round(100*time.Millisecond)), nil
}

// partitionNemesis cuts the node-to-node network, then heals it. Each
// fault is one of: isolate a node (usually a leader) from the others; a
// bridge (two nodes cannot talk, the third talks to both: each side sees a
// majority through it); a one-way cut (a leader's messages to one follower
// are lost while the follower's still arrive, so it hears votes and
// answers but never the leader's appends or heartbeats).
type partitionNemesis struct{}

func (partitionNemesis) Name() string                   { return "partition" }
func (partitionNemesis) Configure(opts *ClusterOptions) {}
func (partitionNemesis) Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	i := leaderOrRandom(c, rng)
	d := between(rng, time.Second, 4*time.Second)
	n := len(c.Nodes)
	j := (i + 1 + rng.Intn(n-1)) % n // another node
	var desc string
	var heal func()
	switch kind := rng.Intn(4); {
	case kind < 2 || n < 3:
		c.Isolate(i, true)
		heal = func() { c.Isolate(i, false) }
		desc = fmt.Sprintf("isolate n%d", i+1)
	case kind == 2:
		c.Cut(i, j, true)
		c.Cut(j, i, true)
		heal = func() { c.Cut(i, j, false); c.Cut(j, i, false) }
		desc = fmt.Sprintf("bridge: n%d and n%d cut apart", i+1, j+1)
	default:
		c.Cut(i, j, true)
		heal = func() { c.Cut(i, j, false) }
		desc = fmt.Sprintf("one-way: n%d cannot reach n%d", i+1, j+1)
	}
	hold(ctx, d)
	heal()
	return fmt.Sprintf("%s %v", desc, d.Round(100*time.Millisecond)), nil
}

// skewNemesis runs the nodes with skewed clocks — up to 350 ms apart,
// within 0.8 × the 500 ms maximum — and pauses leaders so that leases move
// between nodes whose clocks disagree.
type skewNemesis struct{}

func (skewNemesis) Name() string { return "skew" }
func (skewNemesis) Configure(opts *ClusterOptions) {
	opts.ClockOffsets = map[int]time.Duration{0: 200 * time.Millisecond, 1: -150 * time.Millisecond}
}
func (skewNemesis) Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	desc, err := pauseNemesis{}.Fault(ctx, c, rng)
	return "skewed clocks (+200/-150/0 ms), " + desc, err
}

// stormNemesis: a burst of short pauses of whichever node leads, each just
// past an election timeout, so that leadership and leases move again and
// again.
type stormNemesis struct{}

func (stormNemesis) Name() string                   { return "storm" }
func (stormNemesis) Configure(opts *ClusterOptions) {}
func (stormNemesis) Fault(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	n := 0
	for ; n < 4 && ctx.Err() == nil; n++ {
		i := leaderOrRandom(c, rng)
		c.Pause(i)
		hold(ctx, between(rng, 1200*time.Millisecond, 1800*time.Millisecond))
		c.Resume(i)
		hold(ctx, between(rng, 100*time.Millisecond, 500*time.Millisecond))
	}
	return fmt.Sprintf("storm of %d leader pauses", n), nil
}
