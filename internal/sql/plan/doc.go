// Package plan binds SQL statements to the catalog and builds physical
// plans: trees of named nodes (table-scan, index-lookup, index-range-scan,
// filter, aggregate, having-filter, sort, limit, project, distinct,
// derived-table-scan, values) that sql/exec runs and EXPLAIN renders.
//
// Planning resolves names (CADB0404 unknown column, CADB0400 ambiguous),
// expands '*', compiles every expression once with sql/eval (aggregate calls
// and grouped expressions are compiled through eval's Hook into reads of
// the aggregate's output row, so an ungrouped column is CADB0400), and
// chooses an access path with simple rules (see access.go): primary key or
// unique index point lookups, index range scans over an equality prefix
// plus one range, IN lists as repeated probes, a full scan otherwise. The
// conjuncts a path encodes exactly are dropped from the residual filter.
// A sort is elided when the chosen index already yields the ORDER BY order
// (forward or reversed), and a LIMIT with nothing filtering in between is
// pushed into the scan as a hint.
//
// Guarantees: a plan reads only the keys its access path names; constant
// expressions (index keys, LIMIT/OFFSET) are evaluated at plan time with
// the statement's Env, so a plan is built for one execution and not
// cached.
//
// Not yet: joins, set operations, CTEs, subqueries (CADB0407), statistics
// and estimated rows/costs, EXPLAIN ANALYZE.
package plan
