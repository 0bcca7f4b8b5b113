package systemtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// Process-level tests of issue 9 point 4 on the real binary: every way
// of stopping a running statement (statement_timeout, a pgwire
// CancelRequest, the HTTP client going away, CANCEL QUERY) ends it with
// its error code, takes it off SHOW QUERIES, and leaves the node serving.
// The statement is a three-way cross join of a 1000-row table with a
// predicate no row pair passes: a billion row combinations, minutes of
// work with memory bounded by one batch, so without cancellation each
// test either gets no error at all or waits on SHOW QUERIES in vain.

const cancelRows = 1000

// slowSQL is the long statement; tag makes each test's text distinct, so
// SHOW QUERIES tells them apart.
func slowSQL(tag int) string {
	return fmt.Sprintf("SELECT COUNT(*) FROM t a, t b, t c WHERE a.v + b.v + c.v < %d", -tag)
}

var pgReadyAttr = regexp.MustCompile(`camusdb ready.* pg=(\S+)`)

// pgAddr is the pgwire address the node logged when ready.
func (n *node) pgAddr(t *testing.T) string {
	t.Helper()
	m := pgReadyAttr.FindStringSubmatch(n.logs())
	if m == nil {
		t.Fatalf("no pg address in the ready line:\n%s", n.logs())
	}
	return m[1]
}

func startCancelNode(t *testing.T) (*node, *client.Client) {
	t.Helper()
	_, pgPort, _ := net.SplitHostPort(freePorts(t, 1)[0])
	n := startNode(t, t.TempDir(), "--pg-port", pgPort)
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "cx", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "cx", "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)"); err != nil {
		t.Fatal(err)
	}
	values := make([]string, cancelRows)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, %d)", i, i)
	}
	if _, err := c.Exec(ctx, "cx", "INSERT INTO t (id, v) VALUES "+strings.Join(values, ", "), nil, nil); err != nil {
		t.Fatal(err)
	}
	return n, c
}

// runningQueryID returns the id SHOW QUERIES gives sql, "" when not listed.
func runningQueryID(t *testing.T, n *node, sql string) string {
	t.Helper()
	r := rawPost(t, n, "/execute-sql-query", `{"sql":"SHOW QUERIES","rowFormat":"array"}`)
	wantOK(t, "SHOW QUERIES", r)
	rows, _ := r.body["rows"].([]any)
	for _, row := range rows {
		cells := row.([]any)
		text, _ := cells[9].(map[string]any)["strValue"].(string)
		if text == sql {
			id, _ := cells[0].(map[string]any)["strValue"].(string)
			return id
		}
	}
	return ""
}

func waitListed(t *testing.T, n *node, sql string) string {
	t.Helper()
	var id string
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if id = runningQueryID(t, n, sql); id == "" {
			return errors.New("the statement is not listed by SHOW QUERIES yet")
		}
		return nil
	})
	return id
}

func waitGone(t *testing.T, n *node, sql string) {
	t.Helper()
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if id := runningQueryID(t, n, sql); id != "" {
			return fmt.Errorf("query %s is still running", id)
		}
		return nil
	})
}

// stillServes checks the node answers another query.
func stillServes(t *testing.T, c *client.Client) {
	t.Helper()
	expectRows(t, c, "cx", "SELECT COUNT(*) FROM t", fmt.Sprint(cancelRows))
}

func pgConnect(t *testing.T, n *node) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), fmt.Sprintf("postgres://tester@%s/cx?sslmode=disable", n.pgAddr(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func pgError(t *testing.T, err error, state, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != state || !strings.Contains(pgErr.Message, code) {
		t.Fatalf("want SQLSTATE %s with %s, got %v", state, code, err)
	}
}

func TestCancellationProcess(t *testing.T) {
	n, c := startCancelNode(t)

	t.Run("statement_timeout", func(t *testing.T) {
		conn := pgConnect(t, n)
		ctx := ctxT(t)
		if _, err := conn.Exec(ctx, "SET statement_timeout = '300ms'"); err != nil {
			t.Fatal(err)
		}
		var shown string
		if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "300ms" {
			t.Fatalf("SHOW statement_timeout = %q, %v", shown, err)
		}
		_, err := conn.Exec(ctx, slowSQL(1))
		pgError(t, err, "57014", "CADB0507")
		waitGone(t, n, slowSQL(1))
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("the connection after a timeout: %v", err)
		}

		// Over HTTP: timeoutMs.
		r := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "cx", "sql": slowSQL(2), "timeoutMs": 300})
		wantFailed(t, "timeoutMs", r, http.StatusRequestTimeout, "CADB0507")
		if !strings.Contains(r.str("message"), "timeoutMs") {
			t.Fatalf("message does not name timeoutMs: %s", r.raw)
		}
		waitGone(t, n, slowSQL(2))
		stillServes(t, c)
	})

	t.Run("CancelRequest", func(t *testing.T) {
		conn := pgConnect(t, n)
		ctx := ctxT(t)
		errc := make(chan error, 1)
		go func() {
			_, err := conn.Exec(ctx, slowSQL(3))
			errc <- err
		}()
		waitListed(t, n, slowSQL(3))
		if err := conn.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		pgError(t, <-errc, "57014", "CADB0506")
		waitGone(t, n, slowSQL(3))
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("the connection after a cancel: %v", err)
		}
		stillServes(t, c)
	})

	t.Run("client disconnect", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxT(t))
		errc := make(chan error, 1)
		go func() {
			_, err := c.Query(ctx, "cx", slowSQL(4), nil, nil)
			errc <- err
		}()
		waitListed(t, n, slowSQL(4))
		cancel() // the client gives up and closes its connection
		if err := <-errc; err == nil {
			t.Fatal("the abandoned query returned a result")
		}
		waitGone(t, n, slowSQL(4))
		stillServes(t, c)
	})

	t.Run("pgwire client disconnect", func(t *testing.T) {
		conn := pgConnect(t, n)
		errc := make(chan error, 1)
		go func() {
			_, err := conn.Exec(ctxT(t), slowSQL(7))
			errc <- err
		}()
		waitListed(t, n, slowSQL(7))
		// The client goes away without a word (no Terminate, no cancel).
		_ = conn.PgConn().Conn().Close()
		if err := <-errc; err == nil {
			t.Fatal("the abandoned query returned a result")
		}
		waitGone(t, n, slowSQL(7))
		stillServes(t, c)
	})

	t.Run("HTTP client gives up after 2s", func(t *testing.T) {
		hc := &http.Client{Timeout: 2 * time.Second}
		defer hc.CloseIdleConnections()
		body := fmt.Sprintf(`{"databaseName":"cx","sql":%q}`, slowSQL(8))
		errc := make(chan error, 1)
		go func() {
			resp, err := hc.Post(n.url()+"/execute-sql-query", "application/json", strings.NewReader(body))
			if err == nil {
				_ = resp.Body.Close()
				err = fmt.Errorf("the query answered %s within 2 s", resp.Status)
			}
			errc <- err
		}()
		waitListed(t, n, slowSQL(8))
		if err := <-errc; !strings.Contains(err.Error(), "Client.Timeout") {
			t.Fatal(err)
		}
		waitGone(t, n, slowSQL(8))
		stillServes(t, c)
	})

	t.Run("point queries answer while a long join runs", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			_, err := c.Query(ctxT(t), "cx", slowSQL(9), nil, nil)
			errc <- err
		}()
		id := waitListed(t, n, slowSQL(9))
		conn := pgConnect(t, n)
		for i := range 20 {
			expectRows(t, c, "cx", fmt.Sprintf("SELECT v FROM t WHERE id = %d", i), fmt.Sprint(i))
			var v int64
			if err := conn.QueryRow(ctxT(t), "SELECT v FROM t WHERE id = $1", int64(i)).Scan(&v); err != nil || v != int64(i) {
				t.Fatalf("pgwire point query during the join: %d, %v", v, err)
			}
		}
		if runningQueryID(t, n, slowSQL(9)) != id {
			t.Fatal("the join ended before the point queries did: nothing was shown")
		}
		if _, err := conn.Exec(ctxT(t), fmt.Sprintf("CANCEL QUERY '%s'", id)); err != nil {
			t.Fatal(err)
		}
		expectCode(t, <-errc, "CADB0506")
	})

	t.Run("CANCEL QUERY", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			_, err := c.Query(ctxT(t), "cx", slowSQL(5), nil, nil)
			errc <- err
		}()
		id := waitListed(t, n, slowSQL(5))
		// Cancelled from another protocol: pgwire.
		conn := pgConnect(t, n)
		if _, err := conn.Exec(ctxT(t), fmt.Sprintf("CANCEL QUERY '%s'", id)); err != nil {
			t.Fatal(err)
		}
		expectCode(t, <-errc, "CADB0506")
		waitGone(t, n, slowSQL(5))
		r := postJSON(t, n, "/execute-sql-query", map[string]any{"sql": "CANCEL QUERY '" + id + "'"})
		wantFailed(t, "cancelling a finished query", r, http.StatusBadRequest, "CADB0400")
		stillServes(t, c)
	})

	t.Run("CANCEL QUERY of a pgwire statement", func(t *testing.T) {
		// The session cancels a pgwire statement through the context the
		// connection made for it; the connection's next statement runs.
		conn := pgConnect(t, n)
		errc := make(chan error, 1)
		go func() {
			_, err := conn.Exec(ctxT(t), slowSQL(10))
			errc <- err
		}()
		id := waitListed(t, n, slowSQL(10))
		wantOK(t, "CANCEL QUERY", postJSON(t, n, "/execute-sql-query", map[string]any{"sql": "CANCEL QUERY '" + id + "'"}))
		pgError(t, <-errc, "57014", "CADB0506")
		var v int64
		if err := conn.QueryRow(ctxT(t), "SELECT v FROM t WHERE id = $1", int64(3)).Scan(&v); err != nil || v != 3 {
			t.Fatalf("the connection's next statement: %d, %v", v, err)
		}
		waitGone(t, n, slowSQL(10))
	})

	t.Run("timeout in a transaction releases its locks", func(t *testing.T) {
		conn := pgConnect(t, n)
		ctx := ctxT(t)
		for _, sql := range []string{"BEGIN", "UPDATE t SET v = v WHERE id = 1", "SET statement_timeout = 300"} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		_, err := conn.Exec(ctx, slowSQL(6))
		pgError(t, err, "57014", "CADB0507")
		// Another writer of the same row is not held by the aborted
		// transaction's lock (it would wait for txn_idle_timeout_ms).
		if _, err := c.Exec(ctx, "cx", "UPDATE t SET v = 1 WHERE id = 1", nil, nil); err != nil {
			t.Fatalf("writer after the cancelled transaction: %v", err)
		}
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		expectRows(t, c, "cx", "SELECT v FROM t WHERE id = 1", "1")
	})
}

// TestCancelQueryAcrossClusterProcess: in a 3-node cluster a statement
// running on node 1 shows in SHOW QUERIES sent to node 2, with node 1's
// id, and CANCEL QUERY sent to node 3 stops it.
func TestCancelQueryAcrossClusterProcess(t *testing.T) {
	nodes := startCluster(t, 3, "2")
	c1 := nodes[0].client()
	ctx := ctxT(t)
	if err := c1.CreateDB(ctx, "cx", false); err != nil {
		t.Fatal(err)
	}
	if err := c1.ExecDDL(ctx, "cx", "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)"); err != nil {
		t.Fatal(err)
	}
	values := make([]string, cancelRows)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, %d)", i, i)
	}
	if _, err := c1.Exec(ctx, "cx", "INSERT INTO t (id, v) VALUES "+strings.Join(values, ", "), nil, nil); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c1.Query(ctx, "cx", slowSQL(7), nil, nil)
		errc <- err
	}()
	id := waitListed(t, nodes[1], slowSQL(7))
	if !strings.HasPrefix(id, "1-") {
		t.Fatalf("query id %q does not name node 1", id)
	}
	r := postJSON(t, nodes[2], "/execute-sql-query", map[string]any{"sql": "CANCEL QUERY '" + id + "'"})
	wantOK(t, "CANCEL QUERY through node 3", r)
	expectCode(t, <-errc, "CADB0506")
	waitGone(t, nodes[1], slowSQL(7))
	expectRows(t, nodes[2].client(), "cx", "SELECT COUNT(*) FROM t", fmt.Sprint(cancelRows))
}
