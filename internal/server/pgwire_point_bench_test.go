package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// BenchmarkPGWirePointSelectServer runs the point workload of camus-cli
// bench (a prepared SELECT v FROM bench_kv WHERE k = $1 over the extended
// protocol, 16 connections) on the real stack, with a client that
// allocates nothing per query: it writes pre-encoded Bind/Execute/Sync
// messages and reads the answers with a reused frontend. So allocs/op is
// what the server allocates per query (the figure the point-query work
// drives down), and ns/op the server's cost plus the socket's.
//
//	go test -run '^$' -bench PGWirePointSelectServer -benchmem ./internal/server
func BenchmarkPGWirePointSelectServer(b *testing.B) {
	const conns, rows = 16, 1000
	n := startPGNode(b)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, pgURL(n))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = setup.Close(ctx) }()
	if _, err := setup.Exec(ctx, "CREATE TABLE bench_kv (k INT64 PRIMARY KEY, v STRING)"); err != nil {
		b.Fatal(err)
	}
	batch := &pgx.Batch{}
	for k := 0; k < rows; k++ {
		batch.Queue("INSERT INTO bench_kv VALUES ($1, 'value')", k)
	}
	if err := setup.SendBatch(ctx, batch).Close(); err != nil {
		b.Fatal(err)
	}

	clients := make([]*rawPointClient, conns)
	for i := range clients {
		c, err := newRawPointClient(ctx, pgURL(n))
		if err != nil {
			b.Fatal(err)
		}
		defer c.close()
		clients[i] = c
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	b.ReportAllocs()
	b.ResetTimer()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := c.query(i % rows); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// rawPointClient speaks the extended protocol over a hijacked pgconn
// connection, reusing its buffers.
type rawPointClient struct {
	hc   *pgconn.HijackedConn
	key  [8]byte
	bind pgproto3.Bind
	buf  []byte
}

func newRawPointClient(ctx context.Context, url string) (*rawPointClient, error) {
	pc, err := pgconn.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	hc, err := pc.Hijack()
	if err != nil {
		return nil, err
	}
	c := &rawPointClient{hc: hc}
	c.hc.Frontend.Send(&pgproto3.Parse{Name: "point", Query: "SELECT v FROM bench_kv WHERE k = $1", ParameterOIDs: []uint32{20}})
	c.hc.Frontend.Send(&pgproto3.Sync{})
	if err := c.hc.Frontend.Flush(); err != nil {
		return nil, err
	}
	if _, err := c.readToReady(); err != nil {
		return nil, err
	}
	c.bind = pgproto3.Bind{PreparedStatement: "point", ParameterFormatCodes: []int16{1},
		Parameters: [][]byte{c.key[:]}, ResultFormatCodes: []int16{1}}
	return c, nil
}

// query runs the point select for key and checks it returned one row.
func (c *rawPointClient) query(key int64) error {
	binary.BigEndian.PutUint64(c.key[:], uint64(key))
	buf, err := c.bind.Encode(c.buf[:0])
	if err == nil {
		buf, err = (&pgproto3.Execute{}).Encode(buf)
	}
	if err == nil {
		buf, err = (&pgproto3.Sync{}).Encode(buf)
	}
	if err != nil {
		return err
	}
	c.buf = buf
	if _, err := c.hc.Conn.Write(buf); err != nil {
		return err
	}
	rowCount, err := c.readToReady()
	if err == nil && rowCount != 1 {
		err = fmt.Errorf("key %d: %d rows", key, rowCount)
	}
	return err
}

// readToReady reads messages up to ReadyForQuery and counts the DataRows.
func (c *rawPointClient) readToReady() (int, error) {
	rowCount := 0
	var failed error
	for {
		msg, err := c.hc.Frontend.Receive()
		if err != nil {
			return 0, err
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			rowCount++
		case *pgproto3.ErrorResponse:
			failed = fmt.Errorf("%s: %s", m.Code, m.Message)
		case *pgproto3.ReadyForQuery:
			return rowCount, failed
		}
	}
}

func (c *rawPointClient) close() { _ = c.hc.Conn.Close() }
