package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// typesTestNode starts a node serving HTTP and pgwire (on a listener the
// test binds, so no fixed port) and returns its HTTP URL, a client and a
// pgwire connection string for database db (created here).
func typesTestNode(t *testing.T, db string) (string, *client.Client, string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTPPort, cfg.RaftPort, cfg.PGPort = 0, 0, 0
	cfg.InitialPartitions = 2
	node, err := server.NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node.UsePGListener(ln)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := node.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	url := "http://" + node.HTTPAddr()
	c := client.New([]string{url})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shellWaitReady(ctx, c, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	dumpExec(t, c, "", "CREATE DATABASE "+db)
	return url, c, fmt.Sprintf("postgres://tester@%s/%s?sslmode=disable", node.PGAddr(), db)
}

// typeCase is one column type and values of it. Each value goes in once as
// a pgx parameter (go) and is expected back from pgx in binary and text
// result formats as go, and from the HTTP API as a value of type code
// httpType equal to http.
type typeCase struct {
	name     string
	ddl      string // the column type
	httpType client.Kind
	values   []typeValue
}

type typeValue struct {
	param any // what pgx sends
	want  any // what pgx scans back (into a value of its type)
	http  any // what the HTTP client decodes
}

var typeCases = []typeCase{
	{"bytea", "BYTEA", client.KindBytes, []typeValue{
		{[]byte{0x00, 0x01, 0xff}, []byte{0x00, 0x01, 0xff}, `\x0001ff`},
		{[]byte{}, []byte{}, `\x`},
		{[]byte(`\x41`), []byte(`\x41`), `\x5c783431`},
		{[]byte("a\x00b"), []byte("a\x00b"), `\x610062`},
	}},
	{"smallint", "SMALLINT", client.KindInt64, []typeValue{
		{int16(-32768), int16(-32768), int64(-32768)},
		{int16(32767), int16(32767), int64(32767)},
		{int16(0), int16(0), int64(0)},
	}},
	{"integer", "INTEGER", client.KindInt64, []typeValue{
		{int32(-2147483648), int32(-2147483648), int64(-2147483648)},
		{int32(2147483647), int32(2147483647), int64(2147483647)},
	}},
	{"varchar", "VARCHAR(5)", client.KindString, []typeValue{
		{"héllo", "héllo", "héllo"},
		{"", "", ""},
		{"ab   ", "ab   ", "ab   "},
	}},
	{"char", "CHAR(4)", client.KindString, []typeValue{
		{"ab", "ab  ", "ab  "},
		{"abcd", "abcd", "abcd"},
		{"ü", "ü   ", "ü   "},
	}},
	{"date", "DATE", client.KindDate, []typeValue{
		{date(2024, 2, 29), date(2024, 2, 29), "2024-02-29"},
		{date(1, 1, 1), date(1, 1, 1), "0001-01-01"},
		{date(9999, 12, 31), date(9999, 12, 31), "9999-12-31"},
		{date(1969, 12, 31), date(1969, 12, 31), "1969-12-31"},
	}},
	{"timestamp", "TIMESTAMP", client.KindTimestamp, []typeValue{
		{ts(2024, 2, 29, 13, 14, 15, 123456), ts(2024, 2, 29, 13, 14, 15, 123456), "2024-02-29 13:14:15.123456"},
		{ts(1, 1, 1, 0, 0, 0, 0), ts(1, 1, 1, 0, 0, 0, 0), "0001-01-01 00:00:00"},
		{ts(1969, 12, 31, 23, 59, 59, 999999), ts(1969, 12, 31, 23, 59, 59, 999999), "1969-12-31 23:59:59.999999"},
		{ts(9999, 12, 31, 23, 59, 59, 999999), ts(9999, 12, 31, 23, 59, 59, 999999), "9999-12-31 23:59:59.999999"},
	}},
	{"timestamptz", "TIMESTAMPTZ", client.KindTimestampTZ, []typeValue{
		{ts(2024, 2, 29, 13, 14, 15, 1), ts(2024, 2, 29, 13, 14, 15, 1), "2024-02-29 13:14:15.000001+00"},
		{time.Date(2024, 7, 1, 2, 0, 0, 0, time.FixedZone("x", 5400)), ts(2024, 7, 1, 0, 30, 0, 0), "2024-07-01 00:30:00+00"},
		{ts(1960, 1, 1, 0, 0, 0, 0), ts(1960, 1, 1, 0, 0, 0, 0), "1960-01-01 00:00:00+00"},
	}},
	{"interval", "INTERVAL", client.KindInterval, []typeValue{
		{iv(14, 3, 4*3600e6+5), iv(14, 3, 4*3600e6+5), "1 year 2 mons 3 days 04:00:00.000005"},
		{iv(-1, -2, -1), iv(-1, -2, -1), "-1 mons -2 days -00:00:00.000001"},
		{iv(0, 0, 0), iv(0, 0, 0), "00:00:00"},
		{iv(0, 1, 0), iv(0, 1, 0), "1 day"},
		{iv(0, 0, 86400e6), iv(0, 0, 86400e6), "24:00:00"},
		{iv(0, 0, 1000*3600e6+1), iv(0, 0, 1000*3600e6+1), "1000:00:00.000001"},
	}},
	{"numeric", "NUMERIC", client.KindNumeric, []typeValue{
		{"0.1", num("0.1"), "0.1"},
		{"-123456789012345678901234567890.123456789", num("-123456789012345678901234567890.123456789"), "-123456789012345678901234567890.123456789"},
		{"1.50", num("1.50"), "1.50"},
		{"0.00", num("0.00"), "0.00"},
		{"10000", num("10000"), "10000"},
		{"0.00001", num("0.00001"), "0.00001"},
	}},
	{"numeric_ps", "NUMERIC(7,3)", client.KindNumeric, []typeValue{
		{"1.5", num("1.500"), "1.500"},
		{"-9999.9994", num("-9999.999"), "-9999.999"},
		{"0", num("0.000"), "0.000"},
	}},
	{"uuid", "UUID", client.KindUUID, []typeValue{
		{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"{A0EEBC999C0B4EF8BB6D6BB9BD380A12}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"},
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	}},
	{"jsonb", "JSONB", client.KindJSONB, []typeValue{
		{`{"b": [1, 2.50, null], "a": "x\ty", "a": "é\u0001"}`, `{"a": "é\u0001", "b": [1, 2.50, null]}`, `{"a": "é\u0001", "b": [1, 2.50, null]}`},
		{`"text"`, `"text"`, `"text"`},
		{`[]`, `[]`, `[]`},
		{`[12345678901234567890.5, true]`, `[12345678901234567890.5, true]`, `[12345678901234567890.5, true]`},
	}},
}

func num(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ts(y int, m time.Month, d, hh, mm, ss, us int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, us*1000, time.UTC)
}

func iv(months, days int32, us int64) pgtype.Interval {
	return pgtype.Interval{Months: months, Days: days, Microseconds: us, Valid: true}
}

// sameValue compares what pgx scanned with the expected value: times as
// instants (pgx may attach the local zone to a timestamptz), the rest
// exactly.
func sameValue(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	if w, ok := want.(pgtype.Numeric); ok {
		g, ok := got.(pgtype.Numeric)
		if ok && w.Valid && g.Valid && w.Int != nil && g.Int != nil && w.Int.Sign() == 0 && g.Int.Sign() == 0 && w.NaN == g.NaN {
			// pgx decodes a binary numeric zero without its scale (it
			// does the same with PostgreSQL's 0.00): zero is zero.
			return true
		}
		gj, _ := g.MarshalJSON()
		wj, _ := w.MarshalJSON()
		return ok && string(gj) == string(wj)
	}
	return reflect.DeepEqual(got, want)
}

// TestTypesRoundTrip stores every value of every added type through pgx
// and reads it back through pgx in binary and in text format, through the
// HTTP API, and after camus-dump → camus-cli restore into another
// database; each path must give the value back exactly. The column is
// both the primary key and indexed, so key encodings round-trip too.
func TestTypesRoundTrip(t *testing.T) {
	checkShellLeaks(t)
	url, c, pgURL := typesTestNode(t, "src")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	for _, tc := range typeCases {
		table := "t_" + tc.name
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (v %s PRIMARY KEY, n INT64)", table, tc.ddl)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s_ix (k INT64 PRIMARY KEY, v %s, INDEX v_idx (v))", table, tc.ddl)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, v := range tc.values {
			if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (v, n) VALUES ($1, $2)", table), v.param, i); err != nil {
				t.Fatalf("%s: insert %v: %v", tc.name, v.param, err)
			}
			if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s_ix (k, v) VALUES ($1, $2)", table), i, v.param); err != nil {
				t.Fatalf("%s: insert %v: %v", tc.name, v.param, err)
			}
		}
		for i, v := range tc.values {
			for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
				for _, q := range []string{
					fmt.Sprintf("SELECT v FROM %s WHERE n = %d", table, i),
					fmt.Sprintf("SELECT v FROM %s_ix WHERE k = %d", table, i),
				} {
					got := reflect.New(reflect.TypeOf(v.want))
					if err := conn.QueryRow(ctx, q, mode).Scan(got.Interface()); err != nil {
						t.Fatalf("%s (mode %v): %s: %v", tc.name, mode, q, err)
					}
					if !sameValue(got.Elem().Interface(), v.want) {
						t.Errorf("%s (mode %v): %s: got %v, want %v", tc.name, mode, q, got.Elem().Interface(), v.want)
					}
				}
			}
			// The value finds its row through the primary key and the
			// index. (CHAR(n) compares with its blanks: look up the padded
			// value.)
			lookup := v.param
			if tc.name == "char" || tc.name == "numeric_ps" || tc.name == "uuid" || tc.name == "jsonb" {
				lookup = v.want
			}
			if tc.httpType > client.KindBytes {
				lookup = v.http // pgx sends time.Time as text a STRING column would hold
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT n FROM "+table+" WHERE v = $1", lookup).Scan(&n); err != nil || n != int64(i) {
				t.Errorf("%s: lookup by primary key %v: n=%d err=%v", tc.name, lookup, n, err)
			}
			if err := conn.QueryRow(ctx, "SELECT k FROM "+table+"_ix WHERE v = $1", lookup).Scan(&n); err != nil || n != int64(i) {
				t.Errorf("%s: lookup by index %v: k=%d err=%v", tc.name, lookup, n, err)
			}
		}
		res, err := c.Query(ctx, "src", "SELECT v, n FROM "+table+" ORDER BY n", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Columns[0].Type != tc.httpType {
			t.Errorf("%s: HTTP column type %v, want %v", tc.name, res.Columns[0].Type, tc.httpType)
		}
		for i, v := range tc.values {
			if got := res.Rows[i][0]; !reflect.DeepEqual(got, v.http) {
				t.Errorf("%s: HTTP value %#v, want %#v", tc.name, got, v.http)
			}
		}
		// HTTP parameters: the text form goes back in as a typed value.
		for i, v := range tc.values {
			param := map[string]any{"v": v.http}
			if tc.httpType >= client.KindBytes {
				param["v"] = client.Typed(tc.httpType, v.http.(string))
			}
			r, err := c.Query(ctx, "src", "SELECT n FROM "+table+" WHERE v = @v", param, nil)
			if err != nil || len(r.Rows) != 1 || r.Rows[0][0] != int64(i) {
				t.Errorf("%s: HTTP lookup of %#v: %v %v", tc.name, v.http, r, err)
			}
		}
	}

	path := filepath.Join(t.TempDir(), "src.sql")
	var stderr bytes.Buffer
	if err := RunDump(ctx, DumpOptions{Endpoints: []string{url}, Database: "src", Output: path, Stderr: &stderr, PageRows: 2, BatchRows: 2}); err != nil {
		t.Fatalf("dump: %v\n%s", err, stderr.String())
	}
	dumpExec(t, c, "", "CREATE DATABASE dst")
	if err := RunShell(ctx, ShellOptions{
		Endpoints: []string{url}, Database: "dst", Files: []string{path},
		Stdin: strings.NewReader(""), Stdout: new(bytes.Buffer), Stderr: &stderr,
	}); err != nil {
		dump, _ := os.ReadFile(path)
		t.Fatalf("restore: %v\n%s\ndump:\n%s", err, stderr.String(), dump)
	}
	for _, tc := range typeCases {
		for _, q := range []string{
			"SELECT v, n FROM t_" + tc.name + " ORDER BY v",
			"SELECT k, v FROM t_" + tc.name + "_ix ORDER BY v, k",
			"SHOW CREATE TABLE t_" + tc.name + "_ix",
		} {
			src, dst := dumpRows(t, c, "src", q), dumpRows(t, c, "dst", q)
			if strings.Join(src, "\n") != strings.Join(dst, "\n") {
				t.Errorf("%s differs after restore:\nsource   %q\nrestored %q", q, src, dst)
			}
		}
	}
}

// TestTypesErrorsCarrySQLState checks that values that do not fit a type
// fail with PostgreSQL's SQLSTATE and a message naming the value.
func TestTypesErrorsCarrySQLState(t *testing.T) {
	checkShellLeaks(t)
	_, _, pgURL := typesTestNode(t, "db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE TABLE w (k INT64 PRIMARY KEY, s SMALLINT, i INTEGER, v VARCHAR(3), c CHAR(2), b BYTEA)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sql   string
		args  []any
		state string
		names string
	}{
		{"INSERT INTO w (k, s) VALUES (1, 32768)", nil, "22003", "32768"},
		{"INSERT INTO w (k, s) VALUES (1, $1)", []any{-32769}, "22003", "-32769"},
		{"INSERT INTO w (k, i) VALUES (1, 2147483648)", nil, "22003", "2147483648"},
		{"INSERT INTO w (k, v) VALUES (1, 'abcd')", nil, "22001", "abcd"},
		{"INSERT INTO w (k, c) VALUES (1, $1)", []any{"abc"}, "22001", "abc"},
		{"INSERT INTO w (k, b) VALUES (1, '\\xZZ')", nil, "22P02", `\xZZ`},
		{"SELECT '\\x123'::bytea", nil, "22P02", `\x123`},
		{"SELECT CAST(40000 AS SMALLINT)", nil, "22003", "40000"},
		{"CREATE TABLE bad (k VARCHAR(0) PRIMARY KEY)", nil, "22023", "0"},
	} {
		_, err := conn.Exec(ctx, tc.sql, tc.args...)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.state || !strings.Contains(pgErr.Message, tc.names) {
			t.Errorf("%s: got %v, want SQLSTATE %s naming %q", tc.sql, err, tc.state, tc.names)
		}
	}
	// Accepted values: blanks past a VARCHAR(n) are cut, CHAR(n) pads, an
	// explicit cast truncates.
	if _, err := conn.Exec(ctx, "INSERT INTO w (k, s, i, v, c) VALUES (1, -32768, 2147483647, 'ab   ', 'x')"); err != nil {
		t.Fatal(err)
	}
	var v, ch, cut string
	if err := conn.QueryRow(ctx, "SELECT v, c, CAST('abcdef' AS VARCHAR(2)) FROM w WHERE k = 1").Scan(&v, &ch, &cut); err != nil {
		t.Fatal(err)
	}
	if v != "ab " || ch != "x " || cut != "ab" {
		t.Fatalf("got %q %q %q", v, ch, cut)
	}
	var b []byte
	if err := conn.QueryRow(ctx, `SELECT '\x0aff'::bytea`).Scan(&b); err != nil || !bytes.Equal(b, []byte{0x0a, 0xff}) {
		t.Fatalf("bytea literal: %x %v", b, err)
	}
}
