package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

const (
	// gcInterval is how often a node collects MVCC garbage in the
	// partitions it leads.
	gcInterval = time.Minute
	// gcTTL is how long old versions are kept: well above kv's maximum
	// transaction age (5 min), so no live transaction reads below the
	// threshold.
	gcTTL = 10 * time.Minute
)

// startGC runs MVCC garbage collection in the background until the
// returned stop function is called (it waits for the loop to end).
func (c *core) startGC(logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(gcInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			now := c.clock.Now()
			threshold := hlc.Timestamp{WallTime: now.WallTime - int64(gcTTL)}
			for _, pid := range c.store.PartitionIDs() {
				if st, err := c.store.Status(pid); err != nil || !st.Ready {
					continue
				}
				n, err := c.kvs.CollectGarbage(ctx, pid, threshold)
				if err != nil && ctx.Err() == nil {
					logger.Warn("MVCC garbage collection failed", "partition", pid, "err", err)
				} else if n > 0 {
					logger.Debug("MVCC garbage collected", "partition", pid, "versions", n)
				}
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
