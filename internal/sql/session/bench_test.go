package session_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func benchServer(b *testing.B) *session.Server {
	s, _ := newServer(b)
	setup(b, s, "CREATE TABLE t (id INT64 PRIMARY KEY, name STRING, g INT64, KEY g_idx (g))")
	return s
}

func load(b *testing.B, s *session.Server, n int) {
	const chunk = 1000
	for i := 0; i < n; i += chunk {
		var sb strings.Builder
		sb.WriteString("INSERT INTO t VALUES ")
		for j := i; j < min(i+chunk, n); j++ {
			if j > i {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, 'name-%d', %d)", j, j, j%100)
		}
		mustExec(b, s, session.Request{Database: "d", SQL: sb.String()})
	}
}

func BenchmarkInsert(b *testing.B) {
	s := benchServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.Execute(ctx, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (@id, 'robot', @g)",
			Params: map[string]types.Value{"id": types.NewInt(int64(i)), "g": types.NewInt(int64(i % 100))}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPointSelect(b *testing.B) {
	s := benchServer(b)
	load(b, s, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT name FROM t WHERE id = @id",
			Params: map[string]types.Value{"id": types.NewInt(int64(i % 10000))}})
		if err != nil || len(res.Rows) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkCountStar100k(b *testing.B) {
	s := benchServer(b)
	load(b, s, 100000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT COUNT(*) FROM t"})
		if err != nil || res.Rows[0][0].Int != 100000 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkNextval: one nextval per statement, without a cache (an
// allocation transaction each) and with CACHE 100 (one per 100 values).
func BenchmarkNextval(b *testing.B) {
	for _, cache := range []int{1, 100} {
		b.Run(fmt.Sprintf("cache=%d", cache), func(b *testing.B) {
			s, _ := newServer(b)
			setup(b, s, fmt.Sprintf("CREATE SEQUENCE s CACHE %d", cache))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT nextval('s')"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
