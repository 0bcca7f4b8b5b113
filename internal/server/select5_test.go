package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Joins of many small tables, in the style of SQLite's select5.test (whose
// files are not part of this repository): select5Tables tables tN(aN INT64
// PRIMARY KEY, bN INT64, xN STRING) of 10 rows, and queries joining 15 to
// 18 of them, listed in a scrambled order, whose WHERE clause connects
// them with equalities between an a and a b column (a spanning tree, in
// random orientation and order) and filters some with constants (=, <, >,
// BETWEEN). Every query runs through the HTTP API of a real node and its
// rows are compared with those of a naive evaluator here (which binds the
// tables along the tree, so it needs no planner) and, when the sqlite3
// command is installed, with SQLite's. Without a join order that follows
// the predicates, a query would build a 10^15-row cross product.
//
// A few queries run by default; CAMUS_LONG=1 runs 300.

const select5Tables = 24

type s5Table struct {
	n    int
	rows [][3]any // a, b, x
}

type s5Pred struct {
	sql string
	// tables the predicate reads; eval reports whether bound rows pass.
	tables []int
	eval   func(row func(table int) [3]any) bool
}

type s5Query struct {
	tables []int // in the written order
	cols   []string
	colOf  []func(row func(int) [3]any) any
	preds  []s5Pred
	// edges of the spanning tree: table -> neighbours.
	adj map[int][]int
	sql string
}

func s5Data(rng *rand.Rand) []s5Table {
	tables := make([]s5Table, select5Tables)
	for i := range tables {
		tables[i].n = i + 1
		for a := 1; a <= 10; a++ {
			tables[i].rows = append(tables[i].rows, [3]any{int64(a), int64(rng.Intn(10) + 1), fmt.Sprintf("table t%d row %d", i+1, a)})
		}
	}
	return tables
}

func s5Generate(rng *rand.Rand) s5Query {
	k := 15 + rng.Intn(4)
	perm := rng.Perm(select5Tables)[:k]
	q := s5Query{adj: map[int][]int{}}
	for _, i := range perm {
		q.tables = append(q.tables, i+1)
	}
	col := func(table, c int) string { return fmt.Sprintf("%c%d", "abx"[c], table) }
	// A random spanning tree: each table after the first joins one before
	// it (in a random order unrelated to the written one).
	order := slices.Clone(q.tables)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for i := 1; i < len(order); i++ {
		child, parent := order[i], order[rng.Intn(i)]
		q.adj[child] = append(q.adj[child], parent)
		q.adj[parent] = append(q.adj[parent], child)
		// Mostly a_child = b_parent (one child row per parent row, so
		// results are seldom empty), else any pairing but a = a.
		ca, cb := 0, 1
		if rng.Intn(5) == 0 {
			ca, cb = rng.Intn(2), rng.Intn(2)
			if ca == 0 && cb == 0 {
				cb = 1
			}
		}
		left, right := col(child, ca), col(parent, cb)
		if rng.Intn(2) == 0 {
			left, right = right, left
		}
		c1, t1, c2, t2 := ca, child, cb, parent
		q.preds = append(q.preds, s5Pred{sql: left + " = " + right, tables: []int{t1, t2},
			eval: func(row func(int) [3]any) bool { return row(t1)[c1] == row(t2)[c2] }})
	}
	// Constant filters on a few tables.
	for range 1 + rng.Intn(4) {
		t, c := q.tables[rng.Intn(k)], rng.Intn(2)
		v := int64(rng.Intn(10) + 1)
		name := col(t, c)
		var p s5Pred
		switch rng.Intn(4) {
		case 0:
			p = s5Pred{sql: fmt.Sprintf("%s = %d", name, v), eval: func(row func(int) [3]any) bool { return row(t)[c].(int64) == v }}
		case 1:
			p = s5Pred{sql: fmt.Sprintf("%s < %d", name, v+2), eval: func(row func(int) [3]any) bool { return row(t)[c].(int64) < v+2 }}
		case 2:
			p = s5Pred{sql: fmt.Sprintf("%s > %d", name, v-3), eval: func(row func(int) [3]any) bool { return row(t)[c].(int64) > v-3 }}
		default:
			p = s5Pred{sql: fmt.Sprintf("%s BETWEEN %d AND %d", name, v-2, v+2), eval: func(row func(int) [3]any) bool {
				x := row(t)[c].(int64)
				return x >= v-2 && x <= v+2
			}}
		}
		p.tables = []int{t}
		q.preds = append(q.preds, p)
	}
	rng.Shuffle(len(q.preds), func(i, j int) { q.preds[i], q.preds[j] = q.preds[j], q.preds[i] })
	// Output: a few x columns, sometimes an a or b.
	for range 2 + rng.Intn(4) {
		t, c := q.tables[rng.Intn(k)], rng.Intn(3)
		q.cols = append(q.cols, col(t, c))
		q.colOf = append(q.colOf, func(row func(int) [3]any) any { return row(t)[c] })
	}
	var from []string
	for _, t := range q.tables {
		from = append(from, fmt.Sprintf("t%d", t))
	}
	var where []string
	for _, p := range q.preds {
		where = append(where, p.sql)
	}
	q.sql = "SELECT " + strings.Join(q.cols, ", ") + " FROM " + strings.Join(from, ", ") + " WHERE " + strings.Join(where, " AND ")
	return q
}

// s5Evaluate answers q by binding tables along the spanning tree (so every
// table after the first is constrained by an equality with a bound one)
// and checking each predicate once all its tables are bound.
func s5Evaluate(tables []s5Table, q s5Query) []string {
	order := []int{q.tables[0]}
	seen := map[int]bool{q.tables[0]: true}
	for i := 0; i < len(order); i++ {
		for _, n := range q.adj[order[i]] {
			if !seen[n] {
				seen[n] = true
				order = append(order, n)
			}
		}
	}
	position := map[int]int{}
	for i, t := range order {
		position[t] = i
	}
	// checks[i]: the predicates whose last table (in order) is order[i].
	checks := make([][]s5Pred, len(order))
	for _, p := range q.preds {
		last := 0
		for _, t := range p.tables {
			last = max(last, position[t])
		}
		checks[last] = append(checks[last], p)
	}
	bound := map[int][3]any{}
	row := func(t int) [3]any { return bound[t] }
	var out []string
	var walk func(i int)
	walk = func(i int) {
		if i == len(order) {
			var cells []string
			for _, f := range q.colOf {
				cells = append(cells, fmt.Sprint(f(row)))
			}
			out = append(out, strings.Join(cells, "|"))
			return
		}
		for _, r := range tables[order[i]-1].rows {
			bound[order[i]] = r
			ok := true
			for _, p := range checks[i] {
				if !p.eval(row) {
					ok = false
					break
				}
			}
			if ok {
				walk(i + 1)
			}
		}
	}
	walk(0)
	slices.Sort(out)
	return out
}

// s5SQLite answers the queries with the sqlite3 command (nil when it is
// not installed).
func s5SQLite(t *testing.T, tables []s5Table, queries []s5Query) [][]string {
	t.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Log("sqlite3 not installed: checking against the naive evaluator only")
		return nil
	}
	var script bytes.Buffer
	for _, tb := range tables {
		fmt.Fprintf(&script, "CREATE TABLE t%d(a%d INTEGER PRIMARY KEY, b%d INTEGER, x%d VARCHAR(40));\n", tb.n, tb.n, tb.n, tb.n)
		for _, r := range tb.rows {
			fmt.Fprintf(&script, "INSERT INTO t%d VALUES(%d, %d, '%s');\n", tb.n, r[0], r[1], r[2])
		}
	}
	const end = "--end-of-query--"
	for _, q := range queries {
		fmt.Fprintf(&script, "%s;\nSELECT '%s';\n", q.sql, end)
	}
	cmd := exec.Command(bin, ":memory:")
	cmd.Stdin = &script
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	var results [][]string
	var cur []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == end {
			slices.Sort(cur)
			results = append(results, cur)
			cur = nil
			continue
		}
		if line != "" {
			cur = append(cur, line)
		}
	}
	if len(results) != len(queries) {
		t.Fatalf("sqlite3 answered %d queries of %d", len(results), len(queries))
	}
	return results
}

func TestSelect5StyleJoins(t *testing.T) {
	queries := 6
	if os.Getenv("CAMUS_LONG") != "" {
		queries = 300
	}
	rng := rand.New(rand.NewSource(5))
	tables := s5Data(rng)
	var qs []s5Query
	for range queries {
		qs = append(qs, s5Generate(rng))
	}
	oracle := s5SQLite(t, tables, qs)

	node := startTestNode(t, testConfig(t))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + node.HTTPAddr()
	post := func(path string, req map[string]any) (int, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(req)
		return getJSON(t, client, http.MethodPost, base+path, string(body))
	}
	if status, body := post("/execute-sql-ddl", map[string]any{"sql": "CREATE DATABASE s5"}); status != 200 {
		t.Fatal(body)
	}
	for _, tb := range tables {
		ddl := fmt.Sprintf("CREATE TABLE t%d (a%d INT64 PRIMARY KEY, b%d INT64, x%d STRING)", tb.n, tb.n, tb.n, tb.n)
		if status, body := post("/execute-sql-ddl", map[string]any{"databaseName": "s5", "sql": ddl}); status != 200 {
			t.Fatal(body)
		}
		var values []string
		for _, r := range tb.rows {
			values = append(values, fmt.Sprintf("(%d, %d, '%s')", r[0], r[1], r[2]))
		}
		insert := fmt.Sprintf("INSERT INTO t%d (a%d, b%d, x%d) VALUES %s", tb.n, tb.n, tb.n, tb.n, strings.Join(values, ", "))
		if status, body := post("/execute-sql-non-query", map[string]any{"databaseName": "s5", "sql": insert}); status != 200 {
			t.Fatal(body)
		}
	}
	rowsSeen := 0
	defer func() { t.Logf("%d queries, %d rows in all, SQLite checked: %v", len(qs), rowsSeen, oracle != nil) }()
	for i, q := range qs {
		want := s5Evaluate(tables, q)
		if oracle != nil && !slices.Equal(oracle[i], want) {
			t.Fatalf("query %d: the naive evaluator and SQLite disagree (%d vs %d rows): %s", i, len(want), len(oracle[i]), q.sql)
		}
		status, body := post("/execute-sql-query", map[string]any{"databaseName": "s5", "sql": q.sql, "rowFormat": "array"})
		if status != 200 {
			t.Fatalf("query %d: %d %v\n%s", i, status, body, q.sql)
		}
		rows, _ := body["rows"].([]any)
		got := make([]string, 0, len(rows))
		for _, r := range rows {
			var cells []string
			for _, cell := range r.([]any) {
				m := cell.(map[string]any)
				if s, ok := m["strValue"]; ok && s != nil {
					cells = append(cells, fmt.Sprint(s))
				} else if v, ok := m["longValue"]; ok {
					cells = append(cells, fmt.Sprint(v))
				} else {
					cells = append(cells, fmt.Sprint(m))
				}
			}
			got = append(got, strings.Join(cells, "|"))
		}
		slices.Sort(got)
		rowsSeen += len(got)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d: %d rows, want %d\n%s\ngot  %.400v\nwant %.400v", i, len(got), len(want), q.sql, got, want)
		}
	}
}
