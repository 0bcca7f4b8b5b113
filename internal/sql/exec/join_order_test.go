package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
)

// select5Tables creates t1..tn as SQLite's select5.test does: ten rows
// each, a = 1..10, b a permutation of a, x a label.
func select5Tables(t *testing.T, n int) (exec func(string) [][]string, b func(table, a int) int) {
	s := newServer(t, catalogtest.NewMemDB())
	perm := func(table, a int) int { return ((a-1)*3+table)%10 + 1 } // a permutation of 1..10 per table
	for i := 1; i <= n; i++ {
		mustRun(t, s, fmt.Sprintf("CREATE TABLE t%d (id INT64 PRIMARY KEY, a%d INT64, b%d INT64, x%d STRING)", i, i, i, i))
		var rows []string
		for a := 1; a <= 10; a++ {
			rows = append(rows, fmt.Sprintf("(%d, %d, %d, 'table t%d row %d')", a, a, perm(i, a), i, a))
		}
		mustRun(t, s, fmt.Sprintf("INSERT INTO t%d VALUES %s", i, strings.Join(rows, ", ")))
	}
	exec = func(sql string) [][]string {
		res := mustRun(t, s, sql)
		out := make([][]string, len(res.Rows))
		for i, r := range res.Rows {
			for _, v := range r {
				out[i] = append(out[i], fmt.Sprint(v.Str, v.Int))
			}
		}
		return out
	}
	return exec, perm
}

// Joins of 15-18 small tables written in an order that would build cross
// products (SQLite's select5): the planner reorders them so that every
// join has a condition, and the answer is right.
func TestManyTableJoinsNeverCrossJoinNeedlessly(t *testing.T) {
	const n = 18
	run, perm := select5Tables(t, n)
	rng := rand.New(rand.NewPCG(5, 5))
	for q := range 6 {
		tables := rng.Perm(n)[:15+q%4] // 15 to 18 tables
		for i := range tables {
			tables[i]++
		}
		rng.Shuffle(len(tables), func(i, j int) { tables[i], tables[j] = tables[j], tables[i] })
		// A random spanning tree: table k joins an earlier table by b = a.
		// Written FROM order: shuffled again, so the tree's order is lost.
		type edge struct{ from, to int } // to.a = from.b
		var edges []edge
		var conds []string
		for k := 1; k < len(tables); k++ {
			from := tables[rng.IntN(k)]
			edges = append(edges, edge{from, tables[k]})
			conds = append(conds, fmt.Sprintf("a%d = b%d", tables[k], from))
		}
		root, rootA := tables[0], 1+rng.IntN(10)
		conds = append(conds, fmt.Sprintf("x%d = 'table t%d row %d'", root, root, rootA))
		from := append([]int(nil), tables...)
		rng.Shuffle(len(from), func(i, j int) { from[i], from[j] = from[j], from[i] })
		var names, outs []string
		for _, tb := range from {
			names = append(names, fmt.Sprintf("t%d", tb))
			outs = append(outs, fmt.Sprintf("x%d", tb))
		}
		rng.Shuffle(len(conds), func(i, j int) { conds[i], conds[j] = conds[j], conds[i] })
		sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(outs, ", "), strings.Join(names, ", "), strings.Join(conds, " AND "))

		for _, r := range run("EXPLAIN " + sql) {
			if strings.HasPrefix(r[1], "nested-loop-join") {
				t.Fatalf("query %d planned a cross product:\n%s\n%v", q, sql, run("EXPLAIN "+sql))
			}
		}
		// The model: each table's one row follows from the root's.
		rowA := map[int]int{root: rootA}
		for _, e := range edges {
			rowA[e.to] = perm(e.from, rowA[e.from])
		}
		var want []string
		for _, tb := range from {
			want = append(want, fmt.Sprintf("table t%d row %d0", tb, rowA[tb]))
		}
		got := run(sql)
		if len(got) != 1 || strings.Join(got[0], "|") != strings.Join(want, "|") {
			t.Fatalf("query %d:\n%s\ngot %v\nwant %v", q, sql, got, want)
		}
	}
}
