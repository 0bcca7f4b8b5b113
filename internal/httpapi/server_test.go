package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func mustOID(t *testing.T, hex string) types.Value {
	t.Helper()
	v, err := types.ParseOID(hex)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const oidHex = "65f0a1b2c3d4e5f601234567"

func TestPing(t *testing.T) {
	now := time.Date(2024, 6, 16, 10, 30, 0, 0, time.FixedZone("x", 3600))
	ts := newTestServer(t, nil, func(o *Options) { o.Now = func() time.Time { return now } })
	r := ts.do(http.MethodGet, "/ping", "")
	wantOK(t, r)
	got, err := time.Parse(time.RFC3339, r.body["dateTime"].(string))
	if err != nil || !got.Equal(now) {
		t.Fatalf("dateTime %v (%v), want %v", r.body["dateTime"], err, now)
	}
	if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", r.header.Get("Content-Type"))
	}
}

func TestCreateDropCloseDB(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	cases := []struct {
		path, body, wantSQL string
	}{
		{"/create-db", `{"databaseName":"robots"}`, "CREATE DATABASE `robots`"},
		{"/create-db", `{"databaseName":"select","ifNotExists":true}`, "CREATE DATABASE IF NOT EXISTS `select`"},
		{"/drop-db", `{"databaseName":"robots"}`, "DROP DATABASE `robots`"},
		{"/drop-db", `{"databaseName":"robots","ifExists":true}`, "DROP DATABASE IF EXISTS `robots`"},
	}
	for _, c := range cases {
		wantOK(t, ts.post(c.path, c.body))
		req := ts.exec.lastRequest(t)
		if req.SQL != c.wantSQL || req.Database != "" || req.Params != nil || req.Txn != nil {
			t.Errorf("%s %s: executor got %+v, want SQL %q", c.path, c.body, req, c.wantSQL)
		}
	}
	calls := ts.exec.calls()
	wantOK(t, ts.post("/close-db", `{"databaseName":"robots"}`))
	if ts.exec.calls() != calls {
		t.Error("/close-db called the executor")
	}
	wantFailed(t, ts.post("/close-db", `{}`), 400, "CADB0400")
	wantFailed(t, ts.post("/create-db", `{"databaseName":""}`), 400, "CADB0400")
	wantFailed(t, ts.post("/create-db", "{\"databaseName\":\"a`b\"}"), 400, "CADB0400")
	wantFailed(t, ts.post("/drop-db", `{"databaseName":"a\nb"}`), 400, "CADB0400")
	if ts.exec.calls() != calls {
		t.Error("invalid names reached the executor")
	}

	ts.exec.execute = func(context.Context, session.Request) (*session.Result, error) {
		return nil, errcode.New(errcode.DatabaseExists, "database robots already exists")
	}
	r := ts.post("/create-db", `{"databaseName":"robots"}`)
	wantFailed(t, r, 400, "CADB0012")
	if r.body["message"] != "database robots already exists" {
		t.Errorf("message %q", r.body["message"])
	}
}

func TestCreateTable(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	body := `{"databaseName":"db","tableName":"Robots","ifNotExists":true,"columns":[
		{"name":"id","type":"id","notNull":true,"primary":true},
		{"name":"name","type":"string","notNull":true,"defaultValue":{"type":3,"strValue":"it's \\ R2"}},
		{"name":"year","type":"int64","defaultValue":{"type":2,"longValue":-2024}},
		{"name":"score","type":"float64","defaultValue":{"type":5,"floatValue":2}},
		{"name":"active","type":"bool","defaultValue":{"type":4,"boolValue":true}},
		{"name":"email","type":"VARCHAR(64)","unique":true,"defaultValue":{"type":0}},
		{"name":"owner","type":"id","defaultValue":{"type":1,"strValue":"` + oidHex + `"}}
	]}`
	wantOK(t, ts.post("/create-table", body))
	req := ts.exec.lastRequest(t)
	want := "CREATE TABLE IF NOT EXISTS `Robots` (`id` OID NOT NULL, `name` STRING NOT NULL DEFAULT ('it''s \\\\ R2'), " +
		"`year` INT64 DEFAULT (-2024), `score` FLOAT64 DEFAULT (2.0), `active` BOOL DEFAULT (true), " +
		"`email` VARCHAR(64) UNIQUE DEFAULT (NULL), `owner` OID DEFAULT (STR_ID('" + oidHex + "')), PRIMARY KEY (`id`))"
	if req.SQL != want || req.Database != "db" {
		t.Fatalf("SQL\n%s\nwant\n%s", req.SQL, want)
	}

	calls := ts.exec.calls()
	wantFailed(t, ts.post("/create-table", `{"tableName":"t","columns":[{"name":"a","type":"blob"}]}`), 400, "CADB0401")
	wantFailed(t, ts.post("/create-table", `{"tableName":"t","columns":[]}`), 400, "CADB0400")
	wantFailed(t, ts.post("/create-table", `{"columns":[{"name":"a","type":"int"}]}`), 400, "CADB0400")
	wantFailed(t, ts.post("/create-table", `{"tableName":"t","columns":[{"name":"","type":"int"}]}`), 400, "CADB0400")
	wantFailed(t, ts.post("/create-table", `{"tableName":"t","columns":[{"name":"a","type":"float","defaultValue":{"type":5,"floatValue":"NaN"}}]}`), 400, "CADB0400")
	if ts.exec.calls() != calls {
		t.Error("invalid create-table reached the executor")
	}
}

func rowsResult(t *testing.T) *session.Result {
	return &session.Result{
		Kind: session.ResultRows,
		Columns: []session.Column{
			{Name: "id", Type: types.OID}, {Name: "name", Type: types.String}, {Name: "year", Type: types.Int64},
			{Name: "score", Type: types.Float64}, {Name: "active", Type: types.Bool}, {Name: "nothing", Type: types.Null},
		},
		Rows: [][]types.Value{
			{mustOID(t, oidHex), types.NewString("R2-D2 \"quoted\""), types.NewInt(1977), types.NewFloat(1.5), types.NewBool(true), types.NullValue},
			{mustOID(t, oidHex), types.NewString(""), types.NewInt(-1), types.NewFloat(math.Inf(1)), types.NewBool(false), types.NullValue},
		},
	}
}

func value(typ int, str any, long int64, float any, b bool) map[string]any {
	return map[string]any{"type": float64(typ), "strValue": str, "longValue": float64(long), "floatValue": float, "boolValue": b}
}

func TestExecuteSQLQueryRows(t *testing.T) {
	exec := &fakeExec{}
	exec.execute = func(context.Context, session.Request) (*session.Result, error) { return rowsResult(t), nil }
	ts := newTestServer(t, exec, nil)

	r := ts.post("/execute-sql-query", `{"databaseName":"db","sql":"SELECT * FROM robots WHERE year = @year AND name = @name",
		"parameters":{"@year":{"type":2,"longValue":1977},"name":{"type":3,"strValue":"R2"},"@o":{"type":1,"strValue":"`+oidHex+`"},
		"f":{"type":5,"floatValue":0.25},"b":{"type":4,"boolValue":true},"n":{"type":0},"bare":7,"bs":"x","bf":1.5,"bb":false,"bn":null},
		"txnIdPT":17,"txnIdCounter":3}`)
	wantOK(t, r)
	req := exec.lastRequest(t)
	wantParams := map[string]types.Value{
		"year": types.NewInt(1977), "name": types.NewString("R2"), "o": mustOID(t, oidHex), "f": types.NewFloat(0.25),
		"b": types.NewBool(true), "n": types.NullValue, "bare": types.NewInt(7), "bs": types.NewString("x"),
		"bf": types.NewFloat(1.5), "bb": types.NewBool(false), "bn": types.NullValue,
	}
	if !reflect.DeepEqual(req.Params, wantParams) {
		t.Errorf("params %+v\nwant %+v", req.Params, wantParams)
	}
	if req.Database != "db" || req.Txn == nil || *req.Txn != (session.TxnHandle{PT: 17, Counter: 3}) {
		t.Errorf("request %+v", req)
	}

	if r.body["kind"] != "rows" || r.body["total"] != float64(2) {
		t.Errorf("kind/total: %s", r.raw)
	}
	wantCols := []any{
		map[string]any{"name": "id", "type": float64(1)}, map[string]any{"name": "name", "type": float64(3)},
		map[string]any{"name": "year", "type": float64(2)}, map[string]any{"name": "score", "type": float64(5)},
		map[string]any{"name": "active", "type": float64(4)}, map[string]any{"name": "nothing", "type": float64(0)},
	}
	if !reflect.DeepEqual(r.body["columns"], wantCols) {
		t.Errorf("columns %v", r.body["columns"])
	}
	wantRows := []any{
		map[string]any{
			"id": value(1, oidHex, 0, float64(0), false), "name": value(3, `R2-D2 "quoted"`, 0, float64(0), false),
			"year": value(2, nil, 1977, float64(0), false), "score": value(5, nil, 0, 1.5, false),
			"active": value(4, nil, 0, float64(0), true), "nothing": value(0, nil, 0, float64(0), false),
		},
		map[string]any{
			"id": value(1, oidHex, 0, float64(0), false), "name": value(3, "", 0, float64(0), false),
			"year": value(2, nil, -1, float64(0), false), "score": value(5, nil, 0, "Infinity", false),
			"active": value(4, nil, 0, float64(0), false), "nothing": value(0, nil, 0, float64(0), false),
		},
	}
	if !reflect.DeepEqual(r.body["rows"], wantRows) {
		t.Errorf("rows %v\nwant %v", r.body["rows"], wantRows)
	}

	r = ts.post("/execute-sql-query", `{"sql":"SELECT 1","rowFormat":"array"}`)
	wantOK(t, r)
	rows := r.body["rows"].([]any)
	if len(rows) != 2 || !reflect.DeepEqual(rows[0].([]any)[2], value(2, nil, 1977, float64(0), false)) {
		t.Errorf("array rows %v", rows)
	}
	if req := exec.lastRequest(t); req.Params != nil || req.Txn != nil || req.StandardStrings {
		t.Errorf("request without parameters/txn: %+v", req)
	}
	// The literal dialect is the HTTP one unless the request asks for
	// pgwire's standard-conforming strings.
	wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 'a\\b'","standardConformingStrings":true}`))
	if req := exec.lastRequest(t); !req.StandardStrings {
		t.Errorf("standardConformingStrings not passed on: %+v", req)
	}
	calls := exec.calls()
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1","rowFormat":"table"}`), 400, "CADB0400")
	if exec.calls() != calls {
		t.Error("bad rowFormat reached the executor")
	}
}

func TestExecuteSQLQueryOtherKinds(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, nil)
	cases := []struct {
		res  *session.Result
		want map[string]any
	}{
		{&session.Result{Kind: session.ResultAffected, RowsAffected: 3},
			map[string]any{"kind": "affected", "rowsAffected": float64(3)}},
		{&session.Result{Kind: session.ResultDDL, Database: "other"},
			map[string]any{"kind": "ddl", "databaseName": "other"}},
		{&session.Result{Kind: session.ResultBegin, Txn: &session.TxnHandle{PT: 99, Counter: 5}},
			map[string]any{"kind": "begin", "txnIdPT": float64(99), "txnIdCounter": float64(5)}},
		{&session.Result{Kind: session.ResultCommit}, map[string]any{"kind": "commit"}},
		{&session.Result{Kind: session.ResultRollback}, map[string]any{"kind": "rollback"}},
	}
	for _, c := range cases {
		exec.execute = func(context.Context, session.Request) (*session.Result, error) { return c.res, nil }
		r := ts.post("/execute-sql-query", `{"sql":"X"}`)
		wantOK(t, r)
		want := map[string]any{"status": "ok", "total": float64(0), "columns": []any{}, "rows": []any{}}
		for k, v := range c.want {
			want[k] = v
		}
		if !reflect.DeepEqual(r.body, want) {
			t.Errorf("got %s\nwant %v", r.raw, want)
		}
	}
	exec.execute = func(context.Context, session.Request) (*session.Result, error) { return nil, nil }
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"X"}`), 500, "CADB0099")
	wantFailed(t, ts.post("/execute-sql-query", `{"databaseName":"db"}`), 400, "CADB0400")
}

func TestExecuteSQLDDLAndNonQuery(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, nil)

	wantOK(t, ts.post("/execute-sql-ddl", `{"databaseName":"db","sql":"CREATE TABLE t (a INT64)"}`))
	if req := exec.lastRequest(t); req.SQL != "CREATE TABLE t (a INT64)" || req.Database != "db" {
		t.Errorf("request %+v", req)
	}
	calls := exec.calls()
	for _, sql := range []string{"SELECT 1", " -- c\n /* x */ (select 1)", "insert into t values (1)", "show tables", "UPDATE t SET a = 1 WHERE a = 2"} {
		wantFailed(t, ts.post("/execute-sql-ddl", fmt.Sprintf(`{"sql":%q}`, sql)), 400, "CADB0400")
	}
	for _, sql := range []string{"SELECT 1", "with x as (select 1) select * from x", "EXPLAIN SELECT 1", "describe t"} {
		wantFailed(t, ts.post("/execute-sql-non-query", fmt.Sprintf(`{"sql":%q}`, sql)), 400, "CADB0400")
	}
	if exec.calls() != calls {
		t.Error("refused statements reached the executor")
	}

	exec.execute = func(context.Context, session.Request) (*session.Result, error) {
		return &session.Result{Kind: session.ResultAffected, RowsAffected: 42}, nil
	}
	r := ts.post("/execute-sql-non-query", `{"databaseName":"db","sql":"DELETE FROM t WHERE a = @a","parameters":{"a":1}}`)
	if r.status != 200 || !reflect.DeepEqual(r.body, map[string]any{"status": "ok", "rows": float64(42)}) {
		t.Errorf("non-query response %d %s", r.status, r.raw)
	}

	// BEGIN over HTTP answers with the new handle on every SQL endpoint.
	exec.execute = func(context.Context, session.Request) (*session.Result, error) {
		return &session.Result{Kind: session.ResultBegin, Txn: &session.TxnHandle{PT: 123, Counter: 4}}, nil
	}
	for _, path := range []string{"/execute-sql-ddl", "/execute-sql-non-query"} {
		r := ts.post(path, `{"sql":"BEGIN"}`)
		wantOK(t, r)
		if r.body["txnIdPT"] != float64(123) || r.body["txnIdCounter"] != float64(4) {
			t.Errorf("%s BEGIN: %s", path, r.raw)
		}
	}
	// COMMIT as SQL names the request's transaction.
	exec.execute = nil
	wantOK(t, ts.post("/execute-sql-non-query", `{"sql":"COMMIT","txnIdPT":123,"txnIdCounter":4}`))
	if req := exec.lastRequest(t); req.Txn == nil || *req.Txn != (session.TxnHandle{PT: 123, Counter: 4}) {
		t.Errorf("COMMIT request %+v", req)
	}
}

func TestRecordEndpoints(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, nil)
	oid := mustOID(t, oidHex)
	cases := []struct {
		name, path, body string
		wantSQL          string
		wantParams       map[string]types.Value
	}{
		{"insert", "/insert", `{"databaseName":"db","tableName":"robots","values":{"name":{"type":3,"strValue":"R2"},"id":{"type":1,"strValue":"` + oidHex + `"},"year":1977}}`,
			"INSERT INTO `robots` (`id`, `name`, `year`) VALUES (@v0, @v1, @v2)",
			map[string]types.Value{"v0": oid, "v1": types.NewString("R2"), "v2": types.NewInt(1977)}},
		{"query all", "/query", `{"databaseName":"db","tableName":"robots"}`, "SELECT * FROM `robots`", nil},
		{"query filters order", "/query", `{"databaseName":"db","tableName":"robots","filters":[
			{"columnName":"year","op":">=","value":{"type":2,"longValue":1970}},
			{"columnName":"name","op":"LIKE","value":"R%"},
			{"columnName":"email","op":"=","value":{"type":0}},
			{"columnName":"code","op":"<>","value":null}],
			"orderBy":[{"columnName":"year","type":1},{"columnName":"name","type":0}]}`,
			"SELECT * FROM `robots` WHERE `year` >= @f0 AND `name` LIKE @f1 AND `email` IS NULL AND `code` IS NOT NULL ORDER BY `year` DESC, `name` ASC",
			map[string]types.Value{"f0": types.NewInt(1970), "f1": types.NewString("R%")}},
		{"query by oid id", "/query-by-id", `{"databaseName":"db","tableName":"robots","id":"` + oidHex + `"}`,
			"SELECT * FROM `robots` WHERE `id` = @f0", map[string]types.Value{"f0": oid}},
		{"query by other id", "/query-by-id", `{"databaseName":"db","tableName":"robots","id":"abc"}`,
			"SELECT * FROM `robots` WHERE `id` = @f0", map[string]types.Value{"f0": types.NewString("abc")}},
		{"update", "/update", `{"databaseName":"db","tableName":"robots","values":{"year":{"type":2,"longValue":2000},"active":false},
			"filters":[{"columnName":"id","op":"=","value":{"type":1,"strValue":"` + oidHex + `"}}]}`,
			"UPDATE `robots` SET `active` = @v0, `year` = @v1 WHERE `id` = @f2",
			map[string]types.Value{"v0": types.NewBool(false), "v1": types.NewInt(2000), "f2": oid}},
		{"delete", "/delete", `{"databaseName":"db","tableName":"robots","filters":[{"columnName":"year","op":"<","value":1900}],"txnIdPT":5,"txnIdCounter":6}`,
			"DELETE FROM `robots` WHERE `year` < @f0", map[string]types.Value{"f0": types.NewInt(1900)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isQuery := strings.HasPrefix(c.path, "/query")
			exec.execute = func(context.Context, session.Request) (*session.Result, error) {
				if isQuery {
					return rowsResult(t), nil
				}
				return &session.Result{Kind: session.ResultAffected, RowsAffected: 1}, nil
			}
			r := ts.post(c.path, c.body)
			wantOK(t, r)
			req := exec.lastRequest(t)
			if req.SQL != c.wantSQL || req.Database != "db" {
				t.Errorf("SQL %q\nwant %q", req.SQL, c.wantSQL)
			}
			if !reflect.DeepEqual(req.Params, c.wantParams) {
				t.Errorf("params %v\nwant %v", req.Params, c.wantParams)
			}
			if isQuery {
				if r.body["total"] != float64(2) || len(r.body["columns"].([]any)) != 6 {
					t.Errorf("query response %s", r.raw)
				}
			} else if !reflect.DeepEqual(r.body, map[string]any{"status": "ok", "rows": float64(1)}) {
				t.Errorf("write response %s", r.raw)
			}
		})
	}
	if req := exec.lastRequest(t); req.Txn == nil || *req.Txn != (session.TxnHandle{PT: 5, Counter: 6}) {
		t.Errorf("delete in a transaction: %+v", req.Txn)
	}

	calls := exec.calls()
	bad := []struct{ path, body string }{
		{"/insert", `{"tableName":"robots","values":{}}`},
		{"/insert", `{"tableName":"","values":{"a":1}}`},
		{"/insert", "{\"tableName\":\"robots\",\"values\":{\"a`\":1}}"},
		{"/update", `{"tableName":"robots","values":{"a":1}}`},
		{"/update", `{"tableName":"robots","filters":[{"columnName":"a","op":"=","value":1}]}`},
		{"/delete", `{"tableName":"robots"}`},
		{"/delete", `{"tableName":"robots","filters":[{"columnName":"a","op":"~","value":1}]}`},
		{"/query", `{"tableName":"robots","orderBy":[{"columnName":"a","type":2}]}`},
		{"/query", `{"tableName":"robots","rowFormat":"csv"}`},
		{"/query-by-id", `{"tableName":"robots"}`},
		{"/query-by-id", `{"tableName":"robots","id":null}`},
		{"/insert", `{"tableName":"robots","values":{"a":1},"txnIdPT":5}`},
	}
	for _, b := range bad {
		wantFailed(t, ts.post(b.path, b.body), 400, "CADB0400")
	}
	if exec.calls() != calls {
		t.Error("invalid record requests reached the executor")
	}
}

func TestTransactionEndpoints(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, nil)
	r := ts.post("/start-transaction", `{"databaseName":"db"}`)
	if r.status != 200 || !reflect.DeepEqual(r.body, map[string]any{"status": "ok", "txnIdPT": float64(1700000000000), "txnIdCounter": float64(7)}) {
		t.Fatalf("start: %d %s", r.status, r.raw)
	}
	if !reflect.DeepEqual(exec.begins, []string{"db"}) {
		t.Errorf("begins %v", exec.begins)
	}
	wantOK(t, ts.post("/commit-transaction", `{"databaseName":"db","txnIdPT":1700000000000,"txnIdCounter":7}`))
	wantOK(t, ts.post("/rollback-transaction", `{"databaseName":"db","txnIdPT":1,"txnIdCounter":2}`))
	if !reflect.DeepEqual(exec.commits, []session.TxnHandle{{PT: 1700000000000, Counter: 7}}) ||
		!reflect.DeepEqual(exec.rollbacks, []session.TxnHandle{{PT: 1, Counter: 2}}) {
		t.Errorf("commits %v rollbacks %v", exec.commits, exec.rollbacks)
	}
	wantFailed(t, ts.post("/commit-transaction", `{"databaseName":"db"}`), 400, "CADB0400")
	wantFailed(t, ts.post("/rollback-transaction", `{"txnIdPT":0,"txnIdCounter":0}`), 400, "CADB0400")
	wantFailed(t, ts.post("/commit-transaction", `{"txnIdPT":"1","txnIdCounter":2}`), 400, "CADB0400")

	exec.endErr = errcode.New(errcode.TxnClosed, "transaction already committed")
	wantFailed(t, ts.post("/commit-transaction", `{"txnIdPT":1,"txnIdCounter":2}`), 409, "CADB0501")
	exec.begin = func(context.Context, string) (session.TxnHandle, error) {
		return session.TxnHandle{}, errcode.New(errcode.UnknownDatabase, "unknown database nope")
	}
	wantFailed(t, ts.post("/start-transaction", `{"databaseName":"nope"}`), 404, "CADB0010")
}

func TestErrorMapping(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, nil)
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{errcode.New(errcode.UnknownDatabase, "x"), 404, "CADB0010"},
		{errcode.New(errcode.UnknownTable, "x"), 404, "CADB0011"},
		{errcode.New(errcode.DatabaseExists, "x"), 400, "CADB0012"},
		{errcode.New(errcode.TableExists, "x"), 400, "CADB0013"},
		{errcode.New(errcode.Corruption, "x"), 500, "CADB0014"},
		{errcode.New(errcode.UnknownIndex, "x"), 404, "CADB0016"},
		{errcode.New(errcode.UniqueViolation, "x"), 400, "CADB0300"},
		{errcode.New(errcode.NotNullViolation, "x"), 400, "CADB0301"},
		{errcode.New(errcode.InvalidInput, "x"), 400, "CADB0400"},
		{errcode.New(errcode.SyntaxError, "x"), 400, "CADB0406"},
		{errcode.New(errcode.Unsupported, "x"), 400, "CADB0407"},
		{errcode.New(errcode.TxnClosed, "x"), 409, "CADB0501"},
		{errcode.New(errcode.TxnConflict, "x"), 409, "CADB0502"},
		{errcode.New(errcode.SchemaCatchingUp, "x"), 503, "CADB0503"},
		{errcode.New(errcode.MustRetry, "x"), 409, "CADB0504"},
		{errcode.New(errcode.Ambiguous, "x"), 500, "CADB0505"},
		{errcode.New(errcode.Internal, "x"), 500, "CADB0099"},
		{fmt.Errorf("wrapped: %w", errcode.New(errcode.UnknownTable, "x")), 404, "CADB0011"},
		{errors.New("no code at all"), 500, "CADB0099"},
	}
	for _, c := range cases {
		exec.execute = func(context.Context, session.Request) (*session.Result, error) { return nil, c.err }
		r := ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`)
		wantFailed(t, r, c.status, c.code)
		if r.status != errcode.HTTPStatus(errcode.Code(c.code)) {
			t.Errorf("%s: status %d disagrees with errcode.HTTPStatus", c.code, r.status)
		}
	}
}

// TestMalformedRequestMessagesSpeakJSON: type errors name the field as the
// client wrote it and the expected kind in JSON terms, never a Go type.
func TestMalformedRequestMessagesSpeakJSON(t *testing.T) {
	ts := newTestServer(t, &fakeExec{}, nil)
	cases := []struct{ body, want string }{
		{`{"sql":"x","txnIdPT":"abc","txnIdCounter":1}`, `field "txnIdPT": want an integer, got JSON string`},
		{`{"sql":"x","parameters":[]}`, `field "parameters": want an object, got JSON array`},
		{`[]`, `want an object, got JSON array`},
		{`{"sql":5}`, `field "sql": want a string, got JSON number`},
		{`{"sql":"x","parameters":{"a":{"type":4,"boolValue":"yes"}}}`, `field "boolValue": want a boolean, got JSON string`},
	}
	for _, c := range cases {
		r := ts.post("/execute-sql-query", c.body)
		wantFailed(t, r, 400, "CADB0400")
		msg, _ := r.body["message"].(string)
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "httpapi.") || strings.Contains(msg, "txnFields") {
			t.Errorf("%s: message %q, want it to contain %q and no Go names", c.body, msg, c.want)
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, func(o *Options) { o.MaxBodyBytes = 64 })
	cases := []struct{ path, body string }{
		{"/execute-sql-query", `{"sql":`},
		{"/execute-sql-query", `{"sql":"SELECT 1"} trailing`},
		{"/execute-sql-query", `not json`},
		{"/execute-sql-query", `[]`},
		{"/execute-sql-query", `{"sql":5}`},
		{"/execute-sql-query", `{"sql":"x","parameters":[]}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"longValue":1}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":9}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":258}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":2,"longValue":1.5}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":1,"strValue":"zz"}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":3}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":3,"strValue":null}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":2}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":4,"strValue":"true"}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":{"type":5,"floatValue":null}}}`},
		{"/insert", `{"databaseName":"db","tableName":"t","values":{"a":{"type":3}}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":[1]}}`},
		{"/execute-sql-query", `{"sql":"x","parameters":{"a":1,"@a":2}}`},
		{"/execute-sql-query", `{"sql":"x","txnIdPT":1.5,"txnIdCounter":1}`},
		{"/create-db", `{"databaseName":true}`},
		{"/insert", `{"tableName":"t","values":{"a":{"type":5,"floatValue":"lots"}}}`},
	}
	for _, c := range cases {
		r := ts.post(c.path, c.body)
		wantFailed(t, r, 400, "CADB0400")
	}
	if exec.calls() != 0 {
		t.Errorf("malformed requests reached the executor %d times", exec.calls())
	}
	r := ts.post("/execute-sql-query", `{"sql":"SELECT '`+strings.Repeat("x", 100)+`'"}`)
	wantFailed(t, r, 413, "CADB0400")
	// An empty body is {}: the handler then reports the missing field.
	r = ts.post("/execute-sql-query", "")
	wantFailed(t, r, 400, "CADB0400")
	if !strings.Contains(r.body["message"].(string), "sql is required") {
		t.Errorf("message %q", r.body["message"])
	}
}

func TestRoutingErrors(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	wantFailed(t, ts.do(http.MethodGet, "/nope", ""), 404, "CADB0400")
	r := ts.do(http.MethodGet, "/execute-sql-query", "")
	wantFailed(t, r, 405, "CADB0400")
	if r.header.Get("Allow") != http.MethodPost {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantFailed(t, ts.do(http.MethodPost, "/ping", ""), 405, "CADB0400")
	if r := ts.do(http.MethodHead, "/ping", ""); r.status != 200 {
		t.Errorf("HEAD /ping: %d", r.status)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	exec := &fakeExec{}
	exec.execute = func(_ context.Context, req session.Request) (*session.Result, error) {
		if req.SQL == "boom" {
			panic("executor exploded")
		}
		return &session.Result{Kind: session.ResultRows}, nil
	}
	ts := newTestServer(t, exec, nil)
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"boom"}`), 500, "CADB0099")
	wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`))
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"boom"}`), 500, "CADB0099")
	wantOK(t, ts.do(http.MethodGet, "/ping", ""))
}

func TestNotReady(t *testing.T) {
	var ready atomic.Bool
	exec := &fakeExec{}
	ts := newTestServer(t, exec, func(o *Options) { o.Ready = ready.Load })
	wantFailed(t, ts.do(http.MethodGet, "/ping", ""), 503, "CADB0504")
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`), 503, "CADB0504")
	if exec.calls() != 0 {
		t.Error("executor called while not ready")
	}
	if r := ts.do(http.MethodGet, "/metrics", ""); r.status != 200 {
		t.Errorf("/metrics while not ready: %d", r.status)
	}
	wantOK(t, ts.do(http.MethodGet, "/cluster/status", ""))
	ready.Store(true)
	wantOK(t, ts.do(http.MethodGet, "/ping", ""))
}

func TestRequestTimeout(t *testing.T) {
	exec := &fakeExec{}
	exec.execute = func(ctx context.Context, _ session.Request) (*session.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ts := newTestServer(t, exec, func(o *Options) { o.RequestTimeout = 20 * time.Millisecond })
	r := ts.post("/execute-sql-query", `{"sql":"SELECT sleep()"}`)
	wantFailed(t, r, 408, "CADB0507")
	if msg, _ := r.body["message"].(string); !strings.Contains(msg, "http_request_timeout_ms") {
		t.Fatalf("timeout message does not name the setting: %q", msg)
	}
	r = ts.post("/execute-sql-query", `{"sql":"SELECT sleep()","timeoutMs":5}`)
	wantFailed(t, r, 408, "CADB0507")
	if msg, _ := r.body["message"].(string); !strings.Contains(msg, "timeoutMs") {
		t.Fatalf("timeout message does not name timeoutMs: %q", msg)
	}
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1","timeoutMs":-1}`), 400, "CADB0400")
	// A coded error keeps its code even after the deadline.
	exec.execute = func(ctx context.Context, _ session.Request) (*session.Result, error) {
		<-ctx.Done()
		return nil, errcode.New(errcode.Ambiguous, "commit outcome unknown")
	}
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"COMMIT"}`), 500, "CADB0505")
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, nil, func(o *Options) { o.Registry = reg })
	wantOK(t, ts.do(http.MethodGet, "/ping", ""))
	wantOK(t, ts.do(http.MethodGet, "/ping", ""))
	wantFailed(t, ts.post("/execute-sql-query", `{}`), 400, "CADB0400")
	r := ts.do(http.MethodGet, "/metrics", "")
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, want := range []string{
		`camusdb_http_requests_total{code="200",endpoint="ping"} 2`,
		`camusdb_http_requests_total{code="400",endpoint="execute-sql-query"} 1`,
		`camusdb_http_errors_total{cadb_code="CADB0400",endpoint="execute-sql-query"} 1`,
		`camusdb_http_request_duration_seconds_count{code="200",endpoint="ping"} 2`,
	} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, r.raw)
		}
	}
	if ts.api.Registry() != reg {
		t.Error("Registry() is not the given registry")
	}
	if _, err := New(Options{Executor: &fakeExec{}, Registry: reg}); err == nil {
		t.Error("second server on one registry: want an error")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("nil executor: want an error")
	}
}

func TestClusterStatus(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	r := ts.do(http.MethodGet, "/cluster/status", "")
	wantOK(t, r)
	if r.body["nodeId"] != float64(1) || len(r.body["nodes"].([]any)) != 1 || len(r.body["partitions"].([]any)) != 0 {
		t.Errorf("default status %s", r.raw)
	}

	status := ClusterStatus{
		NodeID: 2,
		Nodes: []NodeStatus{
			{ID: 1, Name: "n1", RaftAddress: "h1:7070", HTTPAddress: "h1:5095", Live: true},
			{ID: 2, Name: "n2", RaftAddress: "h2:7070", HTTPAddress: "h2:5095", Live: false},
		},
		Partitions: []PartitionStatus{{ID: 1, Leader: 1, Term: 3, AppliedIndex: 42, Replicas: []uint64{1, 2}}, {ID: 2}},
	}
	var fail atomic.Bool
	ts = newTestServer(t, nil, func(o *Options) {
		o.Status = StatusFunc(func(context.Context) (ClusterStatus, error) {
			if fail.Load() {
				return ClusterStatus{}, errors.New("replica layer down")
			}
			return status, nil
		})
	})
	r = ts.do(http.MethodGet, "/cluster/status", "")
	want := `{"status":"ok","nodeId":2,"nodes":[{"id":1,"name":"n1","raftAddress":"h1:7070","httpAddress":"h1:5095","live":true},` +
		`{"id":2,"name":"n2","raftAddress":"h2:7070","httpAddress":"h2:5095","live":false}],` +
		`"partitions":[{"id":1,"leader":1,"term":3,"appliedIndex":42,"replicas":[1,2]},{"id":2,"leader":0,"term":0,"appliedIndex":0,"replicas":[]}]}`
	if r.raw != want {
		t.Errorf("status\n%s\nwant\n%s", r.raw, want)
	}
	fail.Store(true)
	wantFailed(t, ts.do(http.MethodGet, "/cluster/status", ""), 500, "CADB0099")
}
