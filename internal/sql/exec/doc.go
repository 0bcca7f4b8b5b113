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
// union-all, semi/anti joins (probe side) and every join's output stream:
// joins keep their place (left batch, left row, candidate) between Next
// calls, so no join returns more than BatchSize rows at once, whatever
// the size of its product, and index-nested-loop joins stream each probe.
//
// # Memory and spilling
//
// Operators that retain rows reserve them first from the statement's
// mon.Account (Env.Memory; Execute opens one with Env.MemoryLimit when it
// is nil). Past the statement's budget, with Env.TempDir set, they spill
// to a spill.Store (a directory per statement, removed when it ends):
// sort (sort.go) writes sorted runs and merges them, and keeps only
// Count+Offset rows in a heap under a LIMIT (top-k); hash aggregation and
// hashed DISTINCT freeze their tables and partition the rest by key hash
// (partition.go); the hash join and the semi/anti-joins partition both
// inputs (grace); the nested loop writes its inner side to a run and
// reads it once per block of left rows. Subquery results gathered for an
// expression cannot spill: past the budget they fail with CADB0511. Past
// the node's budget (the mon.Monitor) any reservation fails with
// CADB0510. The buffered result counts against the node's budget only.
// Streaming DISTINCT (input ordered by an index) keeps only the previous
// row.
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
