package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cannedServer answers the HTTP API's endpoints with the bodies a node
// sends for the bench's statements, and counts the connections opened.
func cannedServer(tb testing.TB) (*httptest.Server, *atomic.Int64) {
	point := []byte(`{"status":"ok","kind":"rows","total":1,"columns":[{"name":"v","type":2}],"rows":[[{"type":2,"strValue":null,"longValue":213,"floatValue":0,"boolValue":false}]]}`)
	affected := []byte(`{"status":"ok","rows":1}`)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/execute-sql-query":
			_, _ = w.Write(point)
		case "/execute-sql-non-query":
			_, _ = w.Write(affected)
		default:
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}
	}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv, &conns
}

const benchClients = 16

func newCannedHTTPTarget(tb testing.TB, lib HTTPClient) (Target, *atomic.Int64) {
	srv, conns := cannedServer(tb)
	t, err := NewHTTPTarget(context.Background(), []string{srv.URL}, "", "", "bench", benchClients, lib)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(t.Close)
	return t, conns
}

func pointOp(ctx context.Context, t Target, k int64) error {
	_, err := t.QueryRows(ctx, "SELECT v FROM bench_kv WHERE k = $1", k)
	return err
}

func insertOp(ctx context.Context, t Target, k int64) error {
	return t.Exec(ctx, "INSERT INTO bench_insert (k, v, s) VALUES ($1, $2, $3)", k, k%1000, "payload")
}

var httpClients = []HTTPClient{HTTPClientSync, HTTPClientNetHTTP}

// The HTTP target keeps one keep-alive connection per client: 16 clients
// never open more than 16 connections.
func TestHTTPTargetReusesConnections(t *testing.T) {
	for _, lib := range httpClients {
		t.Run(string(lib), func(t *testing.T) {
			target, conns := newCannedHTTPTarget(t, lib)
			ctx := context.Background()
			var wg sync.WaitGroup
			for c := range benchClients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 400 {
						op := pointOp
						if i%2 == 0 {
							op = insertOp
						}
						if err := op(ctx, target, int64(c*1000+i)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			// net/http may still replace a connection now and then (its
			// pool is not ours); the synchronous client never does.
			if n := conns.Load(); lib == HTTPClientSync && n > benchClients {
				t.Fatalf("%d clients opened %d connections", benchClients, n)
			}
		})
	}
}

// benchTarget measures the benchmark client's own cost per operation
// (request building, the HTTP client, response decoding) against a server
// that answers canned bodies, with 16 clients as camus-cli bench runs.
func benchTarget(b *testing.B, op func(ctx context.Context, t Target, k int64) error) {
	for _, lib := range httpClients {
		b.Run(strings.ReplaceAll(string(lib), "/", ""), func(b *testing.B) {
			target, conns := newCannedHTTPTarget(b, lib)
			ctx := context.Background()
			var next atomic.Int64
			b.SetParallelism((benchClients + 1) / 2)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(ctx, target, next.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(conns.Load()), "conns")
		})
	}
}

func BenchmarkHTTPTargetPoint(b *testing.B)  { benchTarget(b, pointOp) }
func BenchmarkHTTPTargetInsert(b *testing.B) { benchTarget(b, insertOp) }
