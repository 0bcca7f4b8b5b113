package pgwire

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func countRows(t *testing.T, conn *pgx.Conn, table string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCopyPsql loads and unloads tables with psql's \copy in text and CSV
// and checks the values, NULLs and quoting round-trip.
func TestCopyPsql(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING, price FLOAT64, ok BOOL)")
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "in.csv")
	csvData := "id,name,price,ok\n1,plain,1.5,t\n2,\"with, comma\",2,false\n3,,3.25,\n4,\"\",4,true\n5,\"multi\nline \"\"quoted\"\"\",5,f\n"
	if err := os.WriteFile(csvPath, []byte(csvData), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runPsql(t, ts, "", "-d", "test", "-c", `\copy items from '`+csvPath+`' with (format csv, header)`)
	if err != nil || !strings.Contains(out, "COPY 5") {
		t.Fatalf("\\copy from csv: %v\n%s", err, out)
	}
	var name *string
	if err := conn.QueryRow(testCtx(t), "SELECT name FROM items WHERE id = 3").Scan(&name); err != nil || name != nil {
		t.Fatalf("unquoted empty CSV field should be NULL: %v %v", name, err)
	}
	if err := conn.QueryRow(testCtx(t), "SELECT name FROM items WHERE id = 4").Scan(&name); err != nil || name == nil || *name != "" {
		t.Fatalf("quoted empty CSV field should be '': %v %v", name, err)
	}
	if err := conn.QueryRow(testCtx(t), "SELECT name FROM items WHERE id = 5").Scan(&name); err != nil || *name != "multi\nline \"quoted\"" {
		t.Fatalf("multi-line quoted field: %q %v", *name, err)
	}

	// Text format in: escapes and \N.
	txtPath := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(txtPath, []byte("6\ttab\\there\t6.5\tt\n7\t\\N\t\\N\t\\N\n8\tback\\\\slash\t8\tf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runPsql(t, ts, "", "-d", "test", "-c", `\copy items from '`+txtPath+`'`)
	if err != nil || !strings.Contains(out, "COPY 3") {
		t.Fatalf("\\copy from text: %v\n%s", err, out)
	}
	if err := conn.QueryRow(testCtx(t), "SELECT name FROM items WHERE id = 6").Scan(&name); err != nil || *name != "tab\there" {
		t.Fatalf("text escape: %q %v", *name, err)
	}

	// Out again, CSV and text, and back into a copy of the table.
	outCSV := filepath.Join(dir, "out.csv")
	out, err = runPsql(t, ts, "", "-d", "test", "-c", `\copy (SELECT * FROM items ORDER BY id) to '`+outCSV+`' with (format csv, header)`)
	if err != nil || !strings.Contains(out, "COPY 8") {
		t.Fatalf("\\copy to csv: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(outCSV)
	wantCSV := "id,name,price,ok\n1,plain,1.5,t\n2,\"with, comma\",2,f\n3,,3.25,\n4,\"\",4,t\n5,\"multi\nline \"\"quoted\"\"\",5,f\n6,tab\there,6.5,t\n7,,,\n8,back\\slash,8,f\n"
	if string(got) != wantCSV {
		t.Fatalf("CSV out:\n%q\nwant\n%q", got, wantCSV)
	}
	outTxt := filepath.Join(dir, "out.txt")
	out, err = runPsql(t, ts, "", "-d", "test", "-c", `\copy items to '`+outTxt+`'`)
	if err != nil || !strings.Contains(out, "COPY 8") {
		t.Fatalf("\\copy to text: %v\n%s", err, out)
	}
	got, _ = os.ReadFile(outTxt)
	if !bytes.Contains(got, []byte("6\ttab\\there\t6.5\tt\n7\t\\N\t\\N\t\\N\n")) || !bytes.Contains(got, []byte("5\tmulti\\nline \"quoted\"\t5\tf\n")) {
		t.Fatalf("text out:\n%q", got)
	}
	mustExec(t, conn, "CREATE TABLE items2 (id INT64 PRIMARY KEY, name STRING, price FLOAT64, ok BOOL)")
	out, err = runPsql(t, ts, "", "-d", "test", "-c", `\copy items2 from '`+outTxt+`'`)
	if err != nil || !strings.Contains(out, "COPY 8") {
		t.Fatalf("\\copy text round trip: %v\n%s", err, out)
	}
	var diff int
	if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM items a JOIN items2 b ON a.id = b.id WHERE a.name = b.name OR (a.name IS NULL AND b.name IS NULL)").Scan(&diff); err != nil || diff != 8 {
		t.Fatalf("round trip differs: %d equal rows, %v", diff, err)
	}
}

// TestCopyMalformedLineWritesNothing: a bad line in the middle aborts the
// whole COPY, names the line, and leaves the table as it was; the
// connection stays usable.
func TestCopyMalformedLineWritesNothing(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE t (id INT64 PRIMARY KEY, v STRING NOT NULL)")
	mustExec(t, conn, "INSERT INTO t VALUES (0, 'before')")
	dir := t.TempDir()
	for _, tc := range []struct {
		name, data, opts, want string
	}{
		{"bad int", "1,a\n2,b\nx3,c\n4,d\n", "format csv", "line 3"},
		{"missing column", "1,a\n2\n", "format csv", "line 2"},
		{"extra column", "1\ta\n2\tb\tc\n", "", "line 2"},
		{"not null", "1,a\n2,\n", "format csv", "line 2"},
		{"duplicate in input", "1,a\n2,b\n1,c\n", "format csv", "line 3"},
		{"duplicate of a stored row", "5,a\n0,b\n", "format csv", "line 2"},
		{"header counts as a line", "id,v\n1,a\nbad,b\n", "format csv, header", "line 3"},
		{"unterminated quote", "1,a\n2,\"b\n", "format csv", "line 2"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		var big strings.Builder
		// Many good rows first, so the bad one is past the first batch.
		if tc.name == "bad int" {
			for i := 100; i < 100+3*copyBatchRows; i++ {
				fmt.Fprintf(&big, "%d,x\n", i)
			}
			tc.want = fmt.Sprintf("line %d", 3*copyBatchRows+3)
		}
		if err := os.WriteFile(path, []byte(big.String()+tc.data), 0o600); err != nil {
			t.Fatal(err)
		}
		opts := ""
		if tc.opts != "" {
			opts = " with (" + tc.opts + ")"
		}
		out, err := runPsql(t, ts, "", "-d", "test", "-c", `\copy t from '`+path+`'`+opts)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: err=%v, want %q in:\n%s", tc.name, err, tc.want, out)
		}
		if n := countRows(t, conn, "t"); n != 1 {
			t.Fatalf("%s: %d rows after a failed COPY, want 1", tc.name, n)
		}
	}
}

// TestCopyPgx uses pgx's CopyFrom (binary format) and CopyTo.
func TestCopyPgx(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE p (id INT64 PRIMARY KEY, name STRING, score FLOAT64, ok BOOL)")
	rows := [][]any{}
	for i := range 50000 {
		var name any = fmt.Sprintf("n%d", i)
		if i%7 == 0 {
			name = nil
		}
		rows = append(rows, []any{int64(i), name, float64(i) / 4, i%2 == 0})
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"p"}, []string{"id", "name", "score", "ok"}, pgx.CopyFromRows(rows))
	if err != nil || n != 50000 {
		t.Fatalf("CopyFrom: %d %v", n, err)
	}
	var sum float64
	var nulls int
	if err := conn.QueryRow(ctx, "SELECT sum(score), count(*) - count(name) FROM p").Scan(&sum, &nulls); err != nil || sum != 49999*50000/8.0 || nulls != 7143 {
		t.Fatalf("sum %v nulls %d err %v", sum, nulls, err)
	}
	// A duplicate key aborts the whole CopyFrom.
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"p"}, []string{"id"}, pgx.CopyFromRows([][]any{{int64(1000000)}, {int64(5)}}))
	if pgCode(err) != "23505" {
		t.Fatalf("duplicate: %v", err)
	}
	if countRows(t, conn, "p") != 50000 {
		t.Fatal("a failed CopyFrom wrote rows")
	}
	var buf bytes.Buffer
	tag, err := conn.PgConn().CopyTo(ctx, &buf, "COPY (SELECT id, name FROM p WHERE id < 3 ORDER BY id) TO STDOUT WITH (FORMAT csv)")
	if err != nil || tag.String() != "COPY 3" || buf.String() != "0,\n1,n1\n2,n2\n" {
		t.Fatalf("CopyTo: %q %v %q", tag, err, buf.String())
	}
	// COPY from a file of the server is refused.
	if _, err := conn.Exec(ctx, "COPY p FROM '/etc/passwd'"); pgCode(err) != "0A000" {
		t.Fatalf("server file: %v", err)
	}
	// The connection is still usable after the failures.
	if countRows(t, conn, "p") != 50000 {
		t.Fatal("count")
	}
}
