package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func syncPost(t *testing.T, hc *http.Client, ctx context.Context, url, body string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}

// echoServer answers a request with its method, path, Content-Type and
// body, and counts connections.
func echoServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")+" "+string(body))
		}
	}
	srv := httptest.NewUnstartedServer(handler)
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestSyncTransportExchangesAndReuses(t *testing.T) {
	srv, conns := echoServer(t, nil)
	tr := newSyncTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i := range 5 {
		got, err := syncPost(t, hc, context.Background(), srv.URL+"/execute-sql-query?x=1", `{"n":`+string(rune('0'+i))+`}`)
		if err != nil {
			t.Fatal(err)
		}
		if want := `POST /execute-sql-query?x=1 application/json {"n":` + string(rune('0'+i)) + `}`; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 sequential requests used %d connections", n)
	}
}

// A pooled connection the server closed while idle is replaced without
// failing the request.
func TestSyncTransportRetriesClosedIdleConnection(t *testing.T) {
	srv, conns := echoServer(t, nil)
	tr := newSyncTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	if _, err := syncPost(t, hc, context.Background(), srv.URL+"/a", "1"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	got, err := syncPost(t, hc, context.Background(), srv.URL+"/b", "2")
	if err != nil {
		t.Fatal(err)
	}
	if got != "POST /b application/json 2" || conns.Load() != 2 {
		t.Fatalf("got %q over %d connections", got, conns.Load())
	}
}

// An answer with Connection: close is read, and its connection not reused.
func TestSyncTransportHonoursConnectionClose(t *testing.T) {
	srv, conns := echoServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	tr := newSyncTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for range 2 {
		if got, err := syncPost(t, hc, context.Background(), srv.URL, ""); err != nil || got != "bye" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("2 requests answered with Connection: close used %d connections", n)
	}
}

// Cancelling the request's context ends a request the server does not
// answer.
func TestSyncTransportCancel(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	srv, _ := echoServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	defer close(release)
	tr := newSyncTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	if _, err := syncPost(t, hc, ctx, srv.URL, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestSyncTransportRefusesHTTPS(t *testing.T) {
	hc := &http.Client{Transport: newSyncTransport()}
	if _, err := syncPost(t, hc, context.Background(), "https://127.0.0.1:1/", ""); err == nil || !strings.Contains(err.Error(), "net/http") {
		t.Fatalf("want an error naming --http-client net/http, got %v", err)
	}
}
