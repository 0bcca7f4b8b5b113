package compat

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = toolEnv(t)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPsql: psql's describe commands list what a session created.
func TestPsql(t *testing.T) {
	db := newDatabase(t)
	out, err := runTool(t, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", db,
		"-c", "CREATE TABLE robots (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
		"-c", "CREATE INDEX robots_name ON robots (name)",
		"-c", `\dt`, "-c", `\di`, "-c", `\d robots`, "-c", `\dn`, "-c", `\du`, "-c", `\l`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"public | robots | table | root", "robots_pkey", "robots_name", `Table "public.robots"`,
		"id     | bigint |", `"robots_pkey" PRIMARY KEY, btree (id)`, "List of schemas", "root", db} {
		if !strings.Contains(out, want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
	// Without -d psql connects to the database named after the user;
	// postgres always exists.
	if out, err := runTool(t, "psql", "-X", "-d", "postgres", "-Atc", "SELECT current_database()"); err != nil || strings.TrimSpace(out) != "postgres" {
		t.Fatalf("postgres database: %v\n%s", err, out)
	}
}

// TestPgbench: pgbench -i -s 1 (its tables, COPY, ALTER TABLE ADD PRIMARY
// KEY), then a short run of the default TPC-B-like script with no failed
// transaction (serialization retries allowed).
func TestPgbench(t *testing.T) {
	db := newDatabase(t)
	out, err := runTool(t, "pgbench", "-i", "-s", "1", db)
	if err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	out, err = runTool(t, "pgbench", "-n", "-c", "4", "-j", "2", "-t", "50", "--max-tries", "100", db)
	if err != nil || !strings.Contains(out, "number of failed transactions: 0") {
		t.Fatalf("pgbench run: %v\n%s", err, out)
	}
}

// TestPsqlSequences: psql lists sequences (\ds, \d) and describes a table
// with a SERIAL and an identity column, and a sequence itself.
func TestPsqlSequences(t *testing.T) {
	db := newDatabase(t)
	out, err := runTool(t, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", db,
		"-c", "CREATE TABLE items (id SERIAL PRIMARY KEY, code BIGINT GENERATED ALWAYS AS IDENTITY, name TEXT)",
		"-c", "CREATE SEQUENCE counter INCREMENT BY 5 START WITH 10",
		"-c", "SELECT nextval('counter'), nextval('counter')",
		"-c", `\ds`, "-c", `\d`, "-c", `\d items`, "-c", `\d counter`, "-c", `\d items_id_seq`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"public | counter        | sequence | root", "public | items_id_seq   | sequence | root",
		"public | items_code_seq | sequence | root", "public | items          | table    | root",
		"nextval('items_id_seq'::regclass)", "generated always as identity", `Sequence "public.counter"`,
		" bigint |    10 |       1 | 9223372036854775807 |         5 | no      |     1", "Owned by: public.items.id"} {
		if !strings.Contains(out, want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
}
