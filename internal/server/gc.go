package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

const (
	// gcInterval is how often a node collects MVCC garbage in the
	// partitions it leads.
	gcInterval = time.Minute
	// gcTTL is how long old versions are kept: well above kv's maximum
	// transaction age (5 min), so no live transaction reads below the
	// threshold.
	gcTTL = 10 * time.Minute
	// staleRecordAge: a COMMITTED transaction record this old whose intents
	// were not resolved was left by a coordinator that died (or whose
	// resolution failed); garbage collection finishes its resolution.
	staleRecordAge = time.Minute
	// staleRecordsPerRound bounds the records one round finishes per partition.
	staleRecordsPerRound = 1000
)

// startGC runs MVCC garbage collection every interval, keeping versions
// for ttl, in the background until the returned stop function is called
// (it waits for the loop to end).
func (c *core) startGC(logger *slog.Logger, interval, ttl time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			now := c.clock.Now()
			threshold := hlc.Timestamp{WallTime: now.WallTime - int64(ttl)}
			// A round scans every partition: off the single P a node
			// serving one client runs on (util/procs).
			release := procs.Hold()
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
				c.finishStaleRecords(ctx, logger, pid, now.WallTime-int64(staleRecordAge))
			}
			release()
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// finishStaleRecords resolves and deletes the COMMITTED records of
// partition pid left behind before the wall time before.
func (c *core) finishStaleRecords(ctx context.Context, logger *slog.Logger, pid uint64, before int64) {
	recs, err := c.kvs.StaleCommittedRecords(pid, before, staleRecordsPerRound)
	if err != nil || len(recs) == 0 {
		return
	}
	n, err := c.db.FinishCommitted(ctx, pid, recs)
	if err != nil && ctx.Err() == nil {
		logger.Warn("finishing abandoned transaction records failed", "partition", pid, "records", len(recs), "finished", n, "err", err)
	} else if n > 0 {
		logger.Info("finished abandoned transaction records", "partition", pid, "records", n)
	}
}
