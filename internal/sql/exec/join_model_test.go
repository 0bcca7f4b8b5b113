package exec_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// modelRow is a row of the model tables: id and a nullable x.
type modelRow struct {
	id int64
	x  *int64
}

func (r modelRow) sqlX() string {
	if r.x == nil {
		return "NULL"
	}
	return fmt.Sprint(*r.x)
}

func randomRows(rng *rand.Rand, n int, base int64) []modelRow {
	rows := make([]modelRow, n)
	for i := range rows {
		rows[i].id = base + int64(i)
		if rng.IntN(5) > 0 {
			x := int64(rng.IntN(8))
			rows[i].x = &x
		}
	}
	return rows
}

func eqX(a, b modelRow) bool { return a.x != nil && b.x != nil && *a.x == *b.x }

// pairs renders result rows of two INT64 columns (NULL as -1), sorted.
func pairs(res *session.Result) []string {
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		parts := make([]string, len(r))
		for j, v := range r {
			if v.IsNull() {
				parts[j] = "-1"
			} else {
				parts[j] = fmt.Sprint(v.Int)
			}
		}
		out[i] = strings.Join(parts, ",")
	}
	slices.Sort(out)
	return out
}

// Every join algorithm and semi/anti join agrees with a direct model of
// SQL semantics (NULLs never equal, NOT IN's unknowns) on random data.
func TestJoinsAgreeWithModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 8 {
		s := newServer(t, catalogtest.NewMemDB())
		mustRun(t, s, "CREATE TABLE a (id INT64 PRIMARY KEY, x INT64)")
		mustRun(t, s, "CREATE TABLE b (id INT64 PRIMARY KEY, x INT64, KEY x_idx (x))")
		mustRun(t, s, "CREATE TABLE c (id INT64 PRIMARY KEY, x INT64)")
		as := randomRows(rng, rng.IntN(30), 0)
		bs := randomRows(rng, rng.IntN(30), 100)
		cs := bs
		if round%2 == 1 { // no NULLs: NOT IN can be TRUE
			cs = slices.DeleteFunc(slices.Clone(bs), func(r modelRow) bool { return r.x == nil })
		}
		for _, tbl := range []struct {
			name string
			rows []modelRow
		}{{"a", as}, {"b", bs}, {"c", cs}} {
			for _, r := range tbl.rows {
				mustRun(t, s, fmt.Sprintf("INSERT INTO %s VALUES (%d, %s)", tbl.name, r.id, r.sqlX()))
			}
		}
		mb, mc := joinModel(as, bs), joinModel(as, cs)
		for _, tc := range []struct {
			sql, node string
			want      []string
		}{
			{"SELECT a.id, b.id FROM a JOIN b ON b.x = a.x", "index-nested-loop-join", mb.inner},
			{"SELECT a.id, c.id FROM a JOIN c ON c.x = a.x", "hash-join", mc.inner},
			{"SELECT a.id, b.id FROM a, b WHERE a.x = b.x", "index-nested-loop-join", mb.inner},
			{"SELECT a.id, b.id FROM a LEFT JOIN b ON b.x = a.x", "index-nested-loop-join", mb.left},
			{"SELECT a.id, c.id FROM a LEFT JOIN c ON c.x = a.x", "hash-join", mc.left},
			{"SELECT a.id, c.id FROM a JOIN c ON a.x < c.x", "nested-loop-join", mc.less},
			{"SELECT id FROM a WHERE x IN (SELECT x FROM c)", "semi-join", mc.semi},
			{"SELECT id FROM a WHERE EXISTS (SELECT 1 FROM c WHERE c.x = a.x)", "semi-join", mc.semi},
			{"SELECT id FROM a WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.x = a.x)", "anti-join", mc.anti},
			{"SELECT id FROM a WHERE x NOT IN (SELECT x FROM c)", "null-aware-anti-join", mc.notIn},
			{"SELECT id FROM a WHERE x NOT IN (SELECT x FROM b)", "null-aware-anti-join", mb.notIn},
		} {
			got := pairs(mustRun(t, s, tc.sql))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
				t.Fatalf("round %d: %s\n got %v\nwant %v", round, tc.sql, got, want)
			}
			plan := mustRun(t, s, "EXPLAIN "+tc.sql)
			if !slices.ContainsFunc(plan.Rows, func(r []types.Value) bool { return r[1].Str == tc.node }) {
				t.Fatalf("%s: plan has no %s: %v", tc.sql, tc.node, plan.Rows)
			}
		}
	}
}

// model is the expected output of each join form of a against others.
type model struct{ inner, left, semi, anti, notIn, less []string }

func joinModel(as, others []modelRow) model {
	var m model
	othersNull := slices.ContainsFunc(others, func(r modelRow) bool { return r.x == nil })
	for _, ra := range as {
		matched := false
		for _, rb := range others {
			if eqX(ra, rb) {
				m.inner = append(m.inner, fmt.Sprintf("%d,%d", ra.id, rb.id))
				m.left = append(m.left, fmt.Sprintf("%d,%d", ra.id, rb.id))
				matched = true
			}
			if ra.x != nil && rb.x != nil && *ra.x < *rb.x {
				m.less = append(m.less, fmt.Sprintf("%d,%d", ra.id, rb.id))
			}
		}
		id := fmt.Sprint(ra.id)
		if matched {
			m.semi = append(m.semi, id)
		} else {
			m.left = append(m.left, fmt.Sprintf("%d,-1", ra.id))
			m.anti = append(m.anti, id)
		}
		// x NOT IN (others): TRUE only when others is empty, or x is not
		// NULL, no other x is NULL and none equals x.
		if len(others) == 0 || (ra.x != nil && !othersNull && !matched) {
			m.notIn = append(m.notIn, id)
		}
	}
	return m
}
