package pgwire

import (
	"strings"
	"testing"
)

// TestSQLPrepare: PREPARE / EXECUTE / DEALLOCATE / DISCARD ALL through
// psql (simple protocol), with tags, typed parameters and errors.
func TestSQLPrepare(t *testing.T) {
	_, ts := memServer(t)
	script := `CREATE TABLE kv (k INT64 PRIMARY KEY, v STRING);
PREPARE ins (INT8, TEXT) AS INSERT INTO kv VALUES ($1, $2);
EXECUTE ins (1, 'one');
EXECUTE ins ('2', 'two');
PREPARE sel AS SELECT v FROM kv WHERE k >= $1 ORDER BY k;
EXECUTE sel (1);
PREPARE upd AS UPDATE kv SET v = upper(v) WHERE k = $1;
EXECUTE upd (2);
DEALLOCATE ins;
DEALLOCATE PREPARE upd;
SET application_name = 'app';
DISCARD ALL;
SHOW application_name;
`
	out, err := runPsql(t, ts, "", "-d", "test", "-a", "-c", script)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"PREPARE", "INSERT 0 1", "one\n two\n(2 rows)", "UPDATE 1", "DEALLOCATE", "DISCARD ALL"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, " app\n") {
		t.Errorf("DISCARD ALL kept application_name:\n%s", out)
	}
	for sql, want := range map[string]string{
		"EXECUTE nope": "does not exist",
		"PREPARE a AS SELECT 1; PREPARE a AS SELECT 2":    "already exists",
		"PREPARE a (INT8) AS SELECT $1; EXECUTE a (1, 2)": "wrong number of parameters",
		"PREPARE a (INT8) AS SELECT $1; EXECUTE a ('x')":  "parameter $1",
		"BEGIN; DISCARD ALL":                              "inside a transaction block",
		"DEALLOCATE nope":                                 "does not exist",
	} {
		out, err := runPsql(t, ts, "", "-d", "test", "-c", sql)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("%s: err=%v, want %q:\n%s", sql, err, want, out)
		}
	}
}
