package pgwire

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// scriptConn is a net.Conn that reads a fixed client stream and discards
// what the server writes.
type scriptConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// echoExecutor answers every statement from its text, covering each
// result kind and transaction handles.
type echoExecutor struct{ counter int64 }

func (e *echoExecutor) Execute(_ context.Context, req session.Request) (*session.Result, error) {
	kw := leadingKeywords(req.SQL, 1)
	first := ""
	if len(kw) > 0 {
		first = kw[0]
	}
	switch first {
	case "use":
		return &session.Result{Kind: session.ResultDDL, Database: "test"}, nil
	case "begin":
		e.counter++
		return &session.Result{Kind: session.ResultBegin, Txn: &session.TxnHandle{PT: 1, Counter: e.counter}}, nil
	case "commit":
		return &session.Result{Kind: session.ResultCommit}, nil
	case "rollback":
		return &session.Result{Kind: session.ResultRollback}, nil
	case "insert", "update", "delete":
		return &session.Result{Kind: session.ResultAffected, RowsAffected: int64(len(req.Params))}, nil
	case "select":
		row := []types.Value{types.NewInt(-7), types.NewFloat(1.5), types.NewBool(true), types.NewString("s"), {}}
		for _, v := range req.Params {
			row[4] = v
		}
		return &session.Result{Kind: session.ResultRows, Columns: []session.Column{
			{Name: "i", Type: types.Int64}, {Name: "f", Type: types.Float64}, {Name: "b", Type: types.Bool},
			{Name: "s", Type: types.String}, {Name: "p", Type: types.Null},
		}, Rows: [][]types.Value{row, row}}, nil
	case "create", "drop":
		return &session.Result{Kind: session.ResultDDL}, nil
	}
	return nil, errcode.New(errcode.SyntaxError, "no")
}

func (e *echoExecutor) Rollback(context.Context, session.TxnHandle) error { return nil }

// encodeMessages returns the wire form of msgs.
func encodeMessages(t testing.TB, msgs ...pgproto3.FrontendMessage) []byte {
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

// FuzzConn feeds arbitrary bytes after a valid startup message to a
// connection: it must neither panic nor hang.
func FuzzConn(f *testing.F) {
	startup := encodeMessages(f, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u", "database": "test"}})
	seeds := [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SELECT 1; INSERT INTO t VALUES (1); BEGIN; SELEC; COMMIT"}},
		{&pgproto3.Parse{Name: "a", Query: "SELECT $1, $2", ParameterOIDs: []uint32{20, 16}},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "a", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}, {1}}, ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 1}, &pgproto3.Execute{Portal: "p"},
			&pgproto3.Close{ObjectType: 'S', Name: "a"}, &pgproto3.Sync{}},
		{&pgproto3.Parse{Query: "SELECT $1"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("1.5e3")}}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Execute{}, &pgproto3.Flush{}, &pgproto3.Sync{}},
		{&pgproto3.Query{String: "SET a = 'b'; SHOW a; SELECT version(); DISCARD ALL"}, &pgproto3.Terminate{}},
	}
	for _, s := range seeds {
		f.Add(encodeMessages(f, s...))
	}
	f.Add([]byte("Q\x00\x00\x00\x05"))
	f.Add([]byte("B\x00\x00\x00\x04"))
	f.Add([]byte("P\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, err := New(Config{Executor: &echoExecutor{}, MaxMessageBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		nc := &scriptConn{r: io.MultiReader(bytes.NewReader(startup), bytes.NewReader(data))}
		c := &conn{srv: srv, nc: nc}
		_ = c.run() // a panic fails the fuzz target
		c.close()
		if srv.ConnCount() != 0 {
			t.Fatal("connection still registered")
		}
	})
}

func TestFuzzSeedsAnswer(t *testing.T) {
	// The seeds produce the protocol answers, not just "no panic".
	srv, _ := New(Config{Executor: &echoExecutor{}})
	startup := encodeMessages(t, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u", "database": "test"}})
	in := append(startup, encodeMessages(t, &pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{})...)
	nc := &scriptConn{r: bytes.NewReader(in)}
	c := &conn{srv: srv, nc: nc}
	if err := c.run(); err != errTerminate {
		t.Fatalf("run: %v", err)
	}
	c.close()
	out := nc.out.String()
	for _, want := range []string{"server_version", "-7", "1.5", "SELECT 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
}
