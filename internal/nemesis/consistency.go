package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

type partitionChecksum struct {
	ID           uint64 `json:"id"`
	AppliedIndex uint64 `json:"appliedIndex"`
	Checksum     string `json:"checksum"`
	Keys         int    `json:"keys"`
}

func checksums(c *Cluster, hc *http.Client, n *Node) (map[uint64]partitionChecksum, error) {
	resp, err := c.Get(hc, n, "/cluster/status?consistency=true")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		Consistency []partitionChecksum `json:"consistency"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	out := map[uint64]partitionChecksum{}
	for _, c := range st.Consistency {
		out[c.ID] = c
	}
	return out, nil
}

// CheckReplicas compares every partition's replicas byte for byte (by
// checksum) at the same applied index. Lease extensions keep appending
// entries, so it polls until it catches all replicas of a partition at one
// index, and reports a difference there, or that it never could.
func CheckReplicas(ctx context.Context, c *Cluster) []string {
	hc := c.HTTPClient(5 * time.Second)
	defer hc.CloseIdleConnections()
	pending := map[uint64]bool{}
	for p := uint64(1); p <= uint64(c.opts.Partitions); p++ {
		pending[p] = true
	}
	var bad []string
	last := ""
	for len(pending) > 0 && ctx.Err() == nil {
		per := make([]map[uint64]partitionChecksum, len(c.Nodes))
		var err error
		for i, n := range c.Nodes {
			if per[i], err = checksums(c, hc, n); err != nil {
				break
			}
		}
		if err == nil {
			for p := range pending {
				first := per[0][p]
				same := true
				for _, m := range per[1:] {
					if m[p].AppliedIndex != first.AppliedIndex {
						same = false
					}
				}
				if !same || first.AppliedIndex == 0 {
					last = fmt.Sprintf("partition %d: %+v", p, []any{per[0][p], per[1][p], per[2%len(per)][p]})
					continue
				}
				delete(pending, p)
				for i, m := range per[1:] {
					if m[p].Checksum != first.Checksum || m[p].Keys != first.Keys {
						bad = append(bad, fmt.Sprintf("replicas diverge: partition %d at applied index %d: n1 %s (%d keys), n%d %s (%d keys)",
							p, first.AppliedIndex, first.Checksum, first.Keys, i+2, m[p].Checksum, m[p].Keys))
					}
				}
			}
		}
		hold(ctx, 20*time.Millisecond)
	}
	if len(pending) > 0 {
		bad = append(bad, fmt.Sprintf("replica check: never saw the replicas of %d partitions at one applied index (%s)", len(pending), last))
	}
	return bad
}
