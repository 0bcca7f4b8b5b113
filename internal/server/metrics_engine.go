package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// Storage engine and Raft log figures on /metrics (docs/operations.md).

var (
	descEngineReadAmp     = metricDesc("storage", "read_amplification", "Sorted runs a point read may consult (L0 sublevels plus non-empty levels); high values mean compactions lag.")
	descEngineCompactions = metricDesc("storage", "compactions_total", "Compactions completed since the engine opened.")
	descEngineDebt        = metricDesc("storage", "compaction_debt_bytes", "Estimated bytes still to compact to reach a stable LSM shape.")
	descEngineCacheHits   = metricDesc("storage", "block_cache_hits_total", "Block cache lookups that found the block.")
	descEngineCacheMisses = metricDesc("storage", "block_cache_misses_total", "Block cache lookups that had to read the block.")
	descEngineCacheBytes  = metricDesc("storage", "block_cache_bytes", "Bytes held by the block cache.")
	descReadCacheHits     = metricDesc("storage", "read_cache_hits_total", "Point reads answered by the read cache (a key's newest version kept in memory) instead of Pebble.")
	descReadCacheMisses   = metricDesc("storage", "read_cache_misses_total", "Point reads the read cache could not answer (not kept, or written since).")
	descReadCacheBytes    = metricDesc("storage", "read_cache_bytes", "Bytes held by the read cache.")
	descReadCacheRefresh  = metricDesc("storage", "read_cache_refreshes_total", "Read cache entries a committed write replaced with the version it wrote, instead of only dropping them.")
	descEngineMemtable    = metricDesc("storage", "memtable_bytes", "Bytes of the memtables.")
	descEngineWALBytes    = metricDesc("storage", "wal_bytes_written_total", "Bytes written to the write-ahead log.")
	descEngineWALSyncs    = metricDesc("storage", "wal_fsyncs_total", "Fsyncs of the write-ahead log; one covers every batch committed while the one before it ran (group commit).")
	descEngineStalls      = metricDesc("storage", "write_stalls_total", "Times the storage engine held every write back: memtables waiting to be flushed, or too many L0 files.")
	descEngineStallSecs   = metricDesc("storage", "write_stall_seconds_total", "Total duration of the storage engine's write stalls.")
	descEngineWALSyncSecs = metricDesc("storage", "wal_fsync_seconds_total", "Time spent in write-ahead log fsyncs; divided by wal_fsyncs_total, the mean fsync latency.")
)

// engineCollector samples the Pebble engine at scrape time.
type engineCollector struct{ e *storage.Engine }

// Describe implements prometheus.Collector.
func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEngineReadAmp, descEngineCompactions, descEngineDebt,
		descEngineCacheHits, descEngineCacheMisses, descEngineCacheBytes,
		descReadCacheHits, descReadCacheMisses, descReadCacheBytes, descReadCacheRefresh, descEngineMemtable, descEngineWALBytes,
		descEngineWALSyncs, descEngineWALSyncSecs, descEngineStalls, descEngineStallSecs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	if c.e == nil {
		return
	}
	s := c.e.Stats()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	k := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(descEngineReadAmp, float64(s.ReadAmp))
	k(descEngineCompactions, float64(s.Compactions))
	g(descEngineDebt, float64(s.CompactionDebt))
	k(descEngineCacheHits, float64(s.BlockCacheHits))
	k(descEngineCacheMisses, float64(s.BlockCacheMisses))
	g(descEngineCacheBytes, float64(s.BlockCacheBytes))
	rc := c.e.ReadCacheStats()
	k(descReadCacheHits, float64(rc.Hits))
	k(descReadCacheMisses, float64(rc.Misses))
	g(descReadCacheBytes, float64(rc.Bytes))
	k(descReadCacheRefresh, float64(rc.Refreshes))
	g(descEngineMemtable, float64(s.MemtableBytes))
	k(descEngineWALBytes, float64(s.WALBytes))
	k(descEngineWALSyncs, float64(s.WALSyncs))
	k(descEngineWALSyncSecs, s.WALSyncSeconds)
	k(descEngineStalls, float64(s.WriteStalls))
	k(descEngineStallSecs, s.WriteStallSeconds)
}

// newLogSyncHistogram times the Raft log's synced writes: from one driver
// iteration's append to the end of the fsync that covers it.
func newLogSyncHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "camusdb",
		Subsystem: "raft",
		Name:      "log_sync_duration_seconds",
		Help:      "Duration of each synced append of the Raft log, from the write to the end of the fsync covering it (fsyncs are shared: see camusdb_storage_wal_fsyncs_total).",
		Buckets:   prometheus.ExponentialBuckets(0.00005, 2, 18), // 50µs .. ~6.5s
	})
}
