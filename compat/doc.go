// Package compat is the PostgreSQL compatibility suite: it builds the
// camusdb binary, starts a real node on free ports and drives it with real
// clients — pgx, database/sql with lib/pq, GORM, goose migrations, psql
// and pgbench. It is its own Go module so those clients stay out of the
// server's go.mod; run it with `cd compat && go test ./...` (.ci/run does).
//
// A test that needs something the server does not have yet skips with a
// message naming it, so the suite shows what is missing instead of
// failing on it.
package compat
