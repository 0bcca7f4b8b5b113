package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

const (
	benchSelect = "SELECT r.id, r.name, COUNT(*) AS n FROM robots AS r JOIN kinds k ON k.id = r.kind_id " +
		"WHERE r.year BETWEEN @from AND @to AND r.name LIKE 'R2%' AND r.active = TRUE " +
		"GROUP BY r.id, r.name HAVING COUNT(*) > 1 ORDER BY n DESC, r.name LIMIT 10"
	benchPointSelect = "SELECT balance FROM accounts WHERE id = $1"
	benchInsert      = "INSERT INTO robots (id, name, year, kind, active) VALUES " +
		"(GEN_ID(), 'R2-D2', 1977, 'astromech', true), (GEN_ID(), 'C-3PO', 1977, 'protocol', false)"
)

func benchParse(b *testing.B, sql string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sql)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSelect(b *testing.B)      { benchParse(b, benchSelect) }
func BenchmarkParsePointSelect(b *testing.B) { benchParse(b, benchPointSelect) }
func BenchmarkParseInsert(b *testing.B)      { benchParse(b, benchInsert) }

// BenchmarkParseInsert1000: a bulk load's statement, 1000 rows of VALUES
// (the bench tool's bulk workload).
func BenchmarkParseInsert1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("INSERT INTO bench_scan (id, v, pad) VALUES ")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, %d, 'abcdefghijklmnopqrstuvwxyz')", 1_000_000+i, i%1000)
	}
	benchParse(b, sb.String())
}

func BenchmarkFormat(b *testing.B) {
	stmt, err := Parse(benchSelect)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = ast.Format(stmt)
	}
}

func BenchmarkSplitStatements(b *testing.B) {
	script := benchInsert + ";\n" + benchSelect + "; -- done\n" + benchPointSelect + ";"
	b.ReportAllocs()
	b.SetBytes(int64(len(script)))
	for i := 0; i < b.N; i++ {
		_ = SplitStatements(script)
	}
}
