// Package exec runs statements: it plans them with sql/plan and executes
// the plans as trees of pull-based operators that pass batches of rows
// (up to BatchSize per Next call), reading through a catalog.KV (a kv
// transaction, or the in-memory fake in tests).
//
// # Use
//
//	res, err := exec.Execute(ctx, exec.Env{Txn: txn, Database: "d", Eval: evalEnv}, stmt)
//
// Writes are buffered (WriteBuffer) and reach the transaction only when
// the statement succeeds; a *StatementError says the transaction is still
// usable.
//
// # Operators
//
// Scans stream from KV in growing batches; filter, project, limit,
// union-all, semi/anti joins (probe side), hash join (probe side) and
// index-nested-loop join stream. Sort, aggregate, hash-join build sides,
// semi-join build sides, nested-loop inner sides and hashed DISTINCT
// retain rows and account for them in a per-query memory account
// (Env.MemoryLimit, DefaultMemoryLimit = 256 MiB): past the limit the
// query fails with CADB0400 instead of growing without bound. Nothing
// spills to disk yet. Streaming DISTINCT (input ordered by an index)
// keeps only the previous row.
//
// Cancellation: the loops that can run long without returning (scans,
// filters, join probes and build sides, sort and aggregate input,
// DISTINCT) check the statement's context every 1024 rows or row pairs
// (cancelCheck, cancel.go) and return its bare error; the session layer
// turns it into CADB0506 / CADB0507.
//
// Subqueries that the planner could not turn into joins are run through
// the plan.Runner this package gives the planner; they share the query's
// KV and memory account.
//
// # EXPLAIN
//
// EXPLAIN [(PHYSICAL)] and (LOGICAL) render the plan tree; ANALYZE runs
// the query (discarding its rows) with every operator wrapped in a
// counter: actual_rows (rows the node produced), rows_read (rows a scan
// decoded from KV, for other nodes the rows their children produced),
// actual_time_ms (time inside the node, children included),
// kv_lookups (point reads the node itself issued) and kv_scan_entries
// (KV entries its scans returned). An index-nested-loop-join's probes are
// counted on its inner index-lookup / index-range-scan row. Subqueries
// evaluated per row are not broken out.
package exec
