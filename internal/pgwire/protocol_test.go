package pgwire

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// until reads messages up to and including ReadyForQuery and renders them
// one per line.
func (c *rawClient) until() string {
	c.t.Helper()
	var b strings.Builder
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receive: %v (so far %s)", err, b.String())
		}
		b.WriteString(render(msg))
		b.WriteByte('\n')
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return b.String()
		}
	}
}

func render(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.ReadyForQuery:
		return "Ready " + string(m.TxStatus)
	case *pgproto3.RowDescription:
		var parts []string
		for _, f := range m.Fields {
			parts = append(parts, fmt.Sprintf("%s:%d/%d", f.Name, f.DataTypeOID, f.Format))
		}
		return "RowDescription " + strings.Join(parts, " ")
	case *pgproto3.DataRow:
		var parts []string
		for _, v := range m.Values {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, fmt.Sprintf("%q", v))
			}
		}
		return "DataRow " + strings.Join(parts, " ")
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		code, _, _ := strings.Cut(m.Message, ":")
		return "Error " + m.Severity + " " + m.Code + " " + code
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus, *pgproto3.BackendKeyData:
		return "" // startup noise, filtered by callers
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

func (c *rawClient) startup(database string) string {
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "raw", "database": database}})
	var lines []string
	for _, l := range strings.Split(c.until(), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func TestExtendedProtocol(t *testing.T) {
	_, ts := memServer(t)
	c := dialRaw(t, ts)
	if got := c.startup("test"); got != "AuthenticationOk\nReady I" {
		t.Fatalf("startup: %s", got)
	}
	c.send(&pgproto3.Query{String: "CREATE TABLE t (k INT64 PRIMARY KEY, v STRING); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)"})
	if got := c.until(); got != "CommandComplete CREATE TABLE\nCommandComplete INSERT 0 3\nReady I\n" {
		t.Fatalf("setup: %s", got)
	}

	for _, tc := range []struct {
		name string
		msgs []pgproto3.FrontendMessage
		want string
	}{{
		name: "named statement and portal, row limit",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Parse{Name: "s1", Query: "SELECT k, v FROM t WHERE k >= $1 ORDER BY k", ParameterOIDs: []uint32{20}},
			&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}, ResultFormatCodes: []int16{1, 0}},
			&pgproto3.Describe{ObjectType: 'P', Name: "p1"},
			&pgproto3.Execute{Portal: "p1", MaxRows: 2},
			&pgproto3.Execute{Portal: "p1", MaxRows: 2},
			&pgproto3.Close{ObjectType: 'P', Name: "p1"},
			&pgproto3.Sync{},
		},
		want: `ParseComplete
ParameterDescription [20]
RowDescription k:20/0 v:25/0
BindComplete
RowDescription k:20/1 v:25/0
DataRow "\x00\x00\x00\x00\x00\x00\x00\x01" "a"
DataRow "\x00\x00\x00\x00\x00\x00\x00\x02" "b"
PortalSuspended
DataRow "\x00\x00\x00\x00\x00\x00\x00\x03" NULL
CommandComplete SELECT 1
CloseComplete
Ready I
`,
	}, {
		name: "unnamed statement, untyped parameter",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Parse{Query: "SELECT v FROM t WHERE k = $1"},
			&pgproto3.Describe{ObjectType: 'S'},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("2")}},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		},
		want: "ParseComplete\nParameterDescription [0]\nRowDescription v:25/0\nBindComplete\nDataRow \"b\"\nCommandComplete SELECT 1\nReady I\n",
	}, {
		name: "the named statement survives Sync",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("3")}},
			&pgproto3.Execute{},
			&pgproto3.Close{ObjectType: 'S', Name: "s1"},
			&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("3")}},
			&pgproto3.Sync{},
		},
		want: "BindComplete\nDataRow \"3\" NULL\nCommandComplete SELECT 1\nCloseComplete\nError ERROR 26000 CADB0400\nReady I\n",
	}, {
		name: "an error skips to Sync",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Parse{Query: "INSERT INTO t VALUES ($1, $2)"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("1"), []byte("dup")}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Parse{Query: "SELECT 1"},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "SELECT COUNT(*) AS n FROM t"},
		},
		want: "ParseComplete\nBindComplete\nNoData\nError ERROR 23505 CADB0300\nReady I\nRowDescription n:20/0\nDataRow \"3\"\nCommandComplete SELECT 1\nReady I\n",
	}, {
		name: "protocol errors",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Parse{Query: "SELECT 1; SELECT 2"},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "SELECT $1"},
			&pgproto3.Bind{Parameters: [][]byte{}},
			&pgproto3.Sync{},
			&pgproto3.Execute{Portal: "nope"},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: ""},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		},
		want: "Error ERROR 42601 CADB0406\nReady I\nParseComplete\nError ERROR 08P01 CADB0400\nReady I\nError ERROR 34000 CADB0400\nReady I\nParseComplete\nBindComplete\nEmptyQueryResponse\nReady I\n",
	}, {
		name: "transaction block status",
		msgs: []pgproto3.FrontendMessage{
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Query{String: "INSERT INTO t VALUES (1, 'dup')"},
			&pgproto3.Query{String: "SELECT 1"},
			&pgproto3.Query{String: "COMMIT"},
			&pgproto3.Query{String: "COMMIT"},
		},
		want: "CommandComplete BEGIN\nReady T\nError ERROR 23505 CADB0300\nReady E\nError ERROR 25P02 CADB0501\nReady E\nCommandComplete ROLLBACK\nReady I\nNoticeResponse\nCommandComplete COMMIT\nReady I\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.msgs...)
			var got strings.Builder
			for range strings.Count(tc.want, "Ready ") {
				got.WriteString(c.until())
			}
			if got.String() != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got.String(), tc.want)
			}
		})
	}
}

func TestEncryptionAndCancelRequests(t *testing.T) {
	_, ts := memServer(t)
	// GSSENCRequest → 'N', then a normal startup on the same connection.
	c := dialRaw(t, ts)
	c.send(&pgproto3.GSSEncRequest{})
	reply := make([]byte, 1)
	if _, err := io.ReadFull(c.nc, reply); err != nil || reply[0] != 'N' {
		t.Fatalf("GSSENCRequest: %q %v", reply, err)
	}
	if got := c.startup("test"); got != "AuthenticationOk\nReady I" {
		t.Fatalf("startup after GSSENCRequest: %s", got)
	}
	// A cancel request with a wrong key is ignored and closes quietly.
	k := dialRaw(t, ts)
	k.send(&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}})
	if n, err := k.nc.Read(reply); n != 0 || err != io.EOF {
		t.Fatalf("cancel connection: n=%d err=%v", n, err)
	}
	// Garbage before startup gets a FATAL error, never a hang.
	g := dialRaw(t, ts)
	if _, err := g.nc.Write([]byte{0, 0, 0, 8, 1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(g.nc)
	if !bytes.Contains(rest, []byte("08P01")) {
		t.Fatalf("garbage startup answer %q", rest)
	}
	c.send(&pgproto3.Terminate{})
}

func TestTLS(t *testing.T) {
	sess, _ := memServer(t)
	ts := startServer(t, Config{Executor: sess, TLS: selfSignedTLS(t)})
	ctx := testCtx(t)
	for _, mode := range []string{"require", "prefer"} {
		conn, err := pgx.Connect(ctx, strings.Replace(ts.url("test", ""), "sslmode=disable", "sslmode="+mode, 1))
		if err != nil {
			t.Fatalf("sslmode=%s: %v", mode, err)
		}
		if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
			t.Fatalf("sslmode=%s: connection is %T, not TLS", mode, conn.PgConn().Conn())
		}
		var one int64
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("query over TLS: %v", err)
		}
		_ = conn.Close(ctx)
	}
	// Plain connections still work when TLS is offered.
	conn, err := pgx.Connect(ctx, ts.url("test", ""))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(context.Background())
}

func TestRequireTLS(t *testing.T) {
	sess, _ := memServer(t)
	ts := startServer(t, Config{Executor: sess, TLS: selfSignedTLS(t), RequireTLS: true})
	ctx := testCtx(t)
	_, err := pgx.Connect(ctx, ts.url("test", ""))
	if pgCode(err) != "28000" || !strings.Contains(err.Error(), "SSL required") {
		t.Fatalf("plain connection: %v", err)
	}
	conn, err := pgx.Connect(ctx, strings.Replace(ts.url("test", ""), "sslmode=disable", "sslmode=require", 1))
	if err != nil {
		t.Fatalf("sslmode=require: %v", err)
	}
	_ = conn.Close(ctx)
	if _, err := New(Config{Executor: sess, RequireTLS: true}); err == nil {
		t.Fatal("RequireTLS without TLS accepted")
	}
}

func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}
