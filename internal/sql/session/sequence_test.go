package session_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func execOK(t *testing.T, s *session.Server, req session.Request) *session.Result {
	t.Helper()
	res, err := s.Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.SQL, err)
	}
	return res
}

// TestNextvalConcurrentDistinct: goroutines on two servers over one kv (two
// nodes, each with its own cache of blocks) call nextval at once; no value
// is handed out twice. Without a cache the values are exactly 1..n: every
// allocation that failed (a conflict, retried) gave nothing out.
func TestNextvalConcurrentDistinct(t *testing.T) {
	db := catalogtest.NewMemDB()
	nodes := []*session.Server{session.NewServer(db, session.Config{}), session.NewServer(db, session.Config{})}
	for _, s := range nodes {
		t.Cleanup(s.Close)
	}
	execOK(t, nodes[0], session.Request{SQL: "CREATE DATABASE d"})
	execOK(t, nodes[0], session.Request{Database: "d", SQL: "CREATE SEQUENCE plain"})
	execOK(t, nodes[0], session.Request{Database: "d", SQL: "CREATE SEQUENCE cached CACHE 7"})
	execOK(t, nodes[0], session.Request{Database: "d", SQL: "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, w INT64)"})
	const perNode, calls = 6, 25
	var mu sync.Mutex
	got := map[string]map[int64]int{"plain": {}, "cached": {}, "t_id_seq": {}}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode)
	for n, s := range nodes {
		for g := 0; g < perNode; g++ {
			wg.Add(1)
			go func(s *session.Server, worker int) {
				defer wg.Done()
				for i := 0; i < calls; i++ {
					res, err := s.Execute(context.Background(), session.Request{Database: "d",
						SQL: "SELECT nextval('plain'), nextval('cached')"})
					if err != nil {
						errs <- err
						return
					}
					ins, err := s.Execute(context.Background(), session.Request{Database: "d",
						SQL: fmt.Sprintf("INSERT INTO t (w) VALUES (%d) RETURNING id", worker)})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					got["plain"][res.Rows[0][0].Int]++
					got["cached"][res.Rows[0][1].Int]++
					got["t_id_seq"][ins.Rows[0][0].Int]++
					mu.Unlock()
				}
			}(s, n*perNode+g)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = 2 * perNode * calls
	for name, values := range got {
		if len(values) != total {
			t.Errorf("%s: %d distinct values for %d calls", name, len(values), total)
		}
		for v, n := range values {
			if n > 1 {
				t.Errorf("%s: %d handed out %d times", name, v, n)
			}
		}
	}
	for v := int64(1); v <= total; v++ {
		if got["plain"][v] != 1 {
			t.Errorf("plain: %d missing: an uncached sequence has no gaps without failures", v)
		}
	}
	res := execOK(t, nodes[1], session.Request{Database: "d", SQL: "SELECT COUNT(*), COUNT(DISTINCT id) FROM t"})
	if res.Rows[0][0].Int != total || res.Rows[0][1].Int != total {
		t.Errorf("table t: %v rows / distinct ids, want %d", res.Rows[0], total)
	}
}

// TestCurrvalIsPerSession: currval and lastval answer what nextval
// returned in the same session, never another session's value.
func TestCurrvalIsPerSession(t *testing.T) {
	s, _ := sessionWithDB(t)
	a, b := newSettings(t), newSettings(t)
	execOK(t, s, session.Request{Database: "d", SQL: "CREATE SEQUENCE q", Settings: a})
	execOK(t, s, session.Request{Database: "d", SQL: "SELECT nextval('q')", Settings: a})
	execOK(t, s, session.Request{Database: "d", SQL: "SELECT nextval('q')", Settings: b})
	res := execOK(t, s, session.Request{Database: "d", SQL: "SELECT currval('q'), lastval()", Settings: a})
	if res.Rows[0][0].Int != 1 || res.Rows[0][1].Int != 1 {
		t.Fatalf("session a: currval, lastval = %v, want 1, 1", res.Rows[0])
	}
	res = execOK(t, s, session.Request{Database: "d", SQL: "SELECT currval('q')", Settings: b})
	if res.Rows[0][0].Int != 2 {
		t.Fatalf("session b: currval = %v, want 2", res.Rows[0])
	}
	c := newSettings(t)
	for _, sql := range []string{"SELECT currval('q')", "SELECT lastval()"} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql, Settings: c})
		if errcode.Of(err) != errcode.CurrvalNotSet || errcode.SQLState(errcode.Of(err)) != "55000" {
			t.Fatalf("%s in a fresh session: %v, want CADB0432 (55000)", sql, err)
		}
	}
	// A dropped and recreated sequence is another sequence.
	execOK(t, s, session.Request{Database: "d", SQL: "DROP SEQUENCE q", Settings: a})
	execOK(t, s, session.Request{Database: "d", SQL: "CREATE SEQUENCE q", Settings: a})
	if _, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT currval('q')", Settings: a}); errcode.Of(err) != errcode.CurrvalNotSet {
		t.Fatalf("currval of a recreated sequence: %v, want CADB0432", err)
	}
}

func sessionWithDB(t *testing.T) (*session.Server, *catalogtest.MemDB) {
	t.Helper()
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, session.Config{})
	t.Cleanup(s.Close)
	execOK(t, s, session.Request{SQL: "CREATE DATABASE d"})
	return s, db
}

func newSettings(t *testing.T) *session.Settings {
	t.Helper()
	st, err := session.NewSettings(session.SettingsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSequenceOwnership: a user with CREATE on the database owns the
// sequences it creates, directly or through a SERIAL column, and may
// alter and drop them; another user may not.
func TestSequenceOwnership(t *testing.T) {
	s, _ := sessionWithDB(t)
	for _, sql := range []string{"CREATE USER bob PASSWORD 'b'", "CREATE USER eve PASSWORD 'e'", "GRANT CREATE ON DATABASE d TO bob"} {
		execOK(t, s, session.Request{Database: "d", SQL: sql})
	}
	for _, sql := range []string{
		"CREATE SEQUENCE mine",
		"CREATE TABLE b (id SERIAL PRIMARY KEY, v TEXT)",
		"INSERT INTO b (v) VALUES ('x')",
		"ALTER SEQUENCE mine RESTART WITH 5",
		"ALTER SEQUENCE b_id_seq INCREMENT BY 2",
		"DROP SEQUENCE mine",
	} {
		if _, err := execAs(s, "bob", "d", sql); err != nil {
			t.Fatalf("bob: %s: %v", sql, err)
		}
	}
	for _, sql := range []string{"ALTER SEQUENCE b_id_seq RESTART", "DROP SEQUENCE b_id_seq", "CREATE SEQUENCE other"} {
		if _, err := execAs(s, "eve", "d", sql); errcode.Of(err) != errcode.PermissionDenied {
			t.Fatalf("eve: %s: %v, want CADB0021", sql, err)
		}
	}
}

// Column changes that run as jobs meet owned sequences: ADD COLUMN of a
// SERIAL or identity column (even with UNIQUE) creates and owns its
// sequence and numbers the existing rows; DROP COLUMN (a job in
// autocommit) drops the sequence the column owns.
func TestSerialColumnsAndColumnJobs(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 5)
	execOK(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN n SERIAL UNIQUE"})
	execOK(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN g INT64 GENERATED BY DEFAULT AS IDENTITY"})
	res := execOK(t, s, session.Request{Database: "d", SQL: "SELECT COUNT(DISTINCT n), COUNT(DISTINCT g), COUNT(*) FROM t"})
	if fmt.Sprint(res.Rows) != "[[5 5 5]]" {
		t.Fatalf("existing rows numbered: %v", res.Rows)
	}
	res = execOK(t, s, session.Request{Database: "d", SQL: "SHOW SEQUENCES"})
	if len(res.Rows) != 2 {
		t.Fatalf("sequences after ADD COLUMN: %v", res.Rows)
	}
	execOK(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN n"})
	execOK(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN g"})
	res = execOK(t, s, session.Request{Database: "d", SQL: "SHOW SEQUENCES"})
	if len(res.Rows) != 0 {
		t.Fatalf("the dropped columns' sequences are left: %v", res.Rows)
	}
	execOK(t, s, session.Request{Database: "d", SQL: "INSERT INTO t (id, v) VALUES (100, 1)"})
}
