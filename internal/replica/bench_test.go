package replica

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// BenchmarkPropose measures committed-and-applied proposals per second on
// a standalone store with a real directory (every append fsynced; the
// engine's WAL fsyncs are counted), for 1 and 16 concurrent proposers. Run with:
//
//	go test -run xxx -bench Propose ./internal/replica/
func BenchmarkPropose(b *testing.B) {
	for _, proposers := range []int{1, 16} {
		b.Run(fmt.Sprintf("proposers=%d", proposers), func(b *testing.B) {
			eng := openTestEngine(b, storage.Options{Dir: b.TempDir()})
			defer eng.Close()
			s := startStore(b, Config{Engine: eng, Partitions: 1})
			defer s.Stop()
			value := make([]byte, 100)
			var next atomic.Int64
			before := eng.Stats().WALSyncs
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range proposers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						key := dataKey(1, fmt.Sprintf("w%d-%d", w, i))
						cmd := Command{Writes: []Write{{Key: key, Value: value}}}
						if err := s.Propose(context.Background(), 1, cmd); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			after := eng.Stats().WALSyncs
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "proposals/s")
			b.ReportMetric(float64(b.N)/float64(max(1, after-before)), "proposals/fsync")
		})
	}
}
