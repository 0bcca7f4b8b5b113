package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/server/auth"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// authAPI is an HTTP API over a real session server and authenticator;
// stmts run first as root.
func authAPI(t *testing.T, trustLoopback bool, stmts ...string) string {
	t.Helper()
	db := catalogtest.NewMemDB()
	a, err := auth.New(auth.Config{DB: db, TrustLoopback: trustLoopback, FailureDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sess := session.NewServer(db, session.Config{OnUsersChanged: a.Invalidate})
	t.Cleanup(sess.Close)
	for _, sql := range append([]string{"CREATE DATABASE d"}, stmts...) {
		if _, err := sess.Execute(context.Background(), session.Request{Database: "d", SQL: sql}); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	api, err := New(Options{Executor: sess, Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(api)
	t.Cleanup(hs.Close)
	return hs.URL
}

type authResult struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, method, url, userinfo, body string) authResult {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user, pw, ok := strings.Cut(userinfo, ":"); ok {
		req.SetBasicAuth(user, pw)
	} else if userinfo != "" {
		req.Header.Set("Authorization", userinfo)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return authResult{resp.StatusCode, string(b), resp.Header}
}

func TestHTTPBasicAuth(t *testing.T) {
	url := authAPI(t, false,
		"ALTER USER root PASSWORD 'rootpw'",
		"CREATE USER reader PASSWORD 'readpw'",
		"CREATE TABLE pub (id INT64 PRIMARY KEY)",
		"CREATE TABLE secret (id INT64 PRIMARY KEY)",
		"GRANT SELECT ON pub TO reader",
	)
	query := func(sql string) string { return `{"databaseName":"d","sql":"` + sql + `"}` }
	// Public endpoints need nothing.
	for _, path := range []string{"/ping", "/metrics"} {
		if r := call(t, "GET", url+path, "", ""); r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	for _, userinfo := range []string{"", "root:wrong", "nobody:rootpw", "Bearer abc", "Basic !!!"} {
		r := call(t, "POST", url+"/execute-sql-query", userinfo, query("SELECT 1"))
		if r.status != 401 || !strings.Contains(r.body, "CADB0020") || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%q: %d %s", userinfo, r.status, r.body)
		}
	}
	if r := call(t, "GET", url+"/cluster/status", "", ""); r.status != 401 {
		t.Errorf("/cluster/status without credentials: %d", r.status)
	}
	if r := call(t, "POST", url+"/execute-sql-query", "root:rootpw", query("SELECT 1")); r.status != 200 {
		t.Fatalf("root: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", url+"/execute-sql-query", "reader:readpw", query("SELECT * FROM pub")); r.status != 200 {
		t.Fatalf("reader on pub: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ path, body string }{
		{"/execute-sql-query", query("SELECT * FROM secret")},
		{"/execute-sql-query", query("SELECT * FROM pub WHERE id IN (SELECT id FROM secret)")},
		{"/execute-sql-non-query", query("INSERT INTO pub VALUES (1)")},
		{"/create-db", `{"databaseName":"other"}`},
		{"/drop-db", `{"databaseName":"d"}`},
	} {
		r := call(t, "POST", url+c.path, "reader:readpw", c.body)
		if r.status != 403 || !strings.Contains(r.body, "CADB0021") {
			t.Errorf("reader %s %s: %d %s", c.path, c.body, r.status, r.body)
		}
	}
	if r := call(t, "POST", url+"/create-db", "root:rootpw", `{"databaseName":"other"}`); r.status != 200 {
		t.Fatalf("root creates a database: %d %s", r.status, r.body)
	}
}

func TestHTTPTrustedLoopback(t *testing.T) {
	url := authAPI(t, true, "CREATE USER reader PASSWORD 'readpw'")
	if r := call(t, "POST", url+"/create-db", "", `{"databaseName":"x"}`); r.status != 200 {
		t.Fatalf("trusted loopback: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", url+"/create-db", "reader:readpw", `{"databaseName":"y"}`); r.status != 403 {
		t.Fatalf("reader on a trusted node: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", url+"/execute-sql-ddl", "", `{"sql":"ALTER USER root PASSWORD 'p'"}`); r.status != 200 {
		t.Fatalf("setting the root password: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", url+"/create-db", "", `{"databaseName":"z"}`); r.status != 401 {
		t.Fatalf("after the root password: %d %s", r.status, r.body)
	}
}
