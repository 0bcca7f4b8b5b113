// Package mon accounts for the memory SQL queries hold.
//
// A Monitor is the node-wide budget (the sql_memory_bytes setting); an
// Account is one query's share of it (sql_query_memory_bytes). Every
// operator that buffers rows reserves their estimated size from its
// query's Account before it grows and releases it when it lets them go;
// the Account rolls every reservation up into the Monitor, so the
// Monitor's Used is the bytes all running queries hold.
//
// Two limits, two behaviours:
//
//   - The query budget is a spill threshold. An operator that can spill
//     (sort, hash aggregation, DISTINCT, hash join) asks Fits before it
//     grows and, when the answer is no, writes rows to disk
//     (sql/exec/spill) instead. An operator that cannot spill reserves
//     with GrowBounded, which fails with a *BudgetError naming the query
//     budget.
//   - The node budget is a hard limit. Grow and GrowBounded fail with a
//     *BudgetError naming the node budget when the Monitor has no room,
//     so the node never exceeds its budget because of queries.
//
// The CADB code (CADB0510 node budget, CADB0511 query budget) is attached
// at the SQL boundary (sql/exec), not here.
//
// Reading an Account from another goroutine: Used and HighWater are safe
// to call concurrently with the query that owns the Account (they are
// atomic loads), which is how SHOW QUERIES reports the memory of running
// statements. Every other method belongs to the query's goroutine.
//
// The sizes are estimates (the Go heap cost of the retained values, see
// sql/exec), not exact allocations; the budgets are meant to keep the
// process well away from exhausting memory, not to be accounted to the
// byte.
package mon
