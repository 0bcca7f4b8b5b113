// Package plan binds SQL statements to the catalog and builds physical
// plans: trees of named nodes (table-scan, index-lookup, index-range-scan,
// filter, aggregate, having-filter, sort, limit, project, distinct,
// derived-table-scan, values, hash-join, index-nested-loop-join,
// nested-loop-join, semi-join, anti-join, null-aware-anti-join, union-all)
// that sql/exec runs and EXPLAIN renders.
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
// Joins (join.go): a FROM clause becomes a left-deep sequence of joins in
// the order written, except that inner joins written in an order that
// would build a cross product while a condition could join another source
// are reordered greedily (fewest estimated rows first, then always a
// source an equality joins, else one any condition joins), with a project
// restoring the written column order. Each WHERE conjunct (and each ON conjunct of an
// inner join) is applied as early as possible: on the scan of the one
// source it reads (never below the NULL-extended side of a LEFT JOIN), as
// the condition of the join that completes its inputs, or as a filter
// right after the LEFT JOIN that completes them. A join whose equalities
// give a prefix of the inner table's primary key or of one of its public
// indexes is an index-nested-loop-join (point reads when they complete a
// unique index); other equality joins are hash joins (build on the right);
// only joins without any equality are nested loops. @{FORCE_INDEX} on the
// inner side restricts the probed index.
//
// Subqueries (subquery.go): a WHERE conjunct [NOT] IN (SELECT ...) or
// [NOT] EXISTS (SELECT ...) becomes a semi-join, anti-join or (NOT IN)
// null-aware-anti-join when the subquery is uncorrelated, or correlated
// only through conjuncts inner = outer (those are rewritten into join
// keys; correlated NOT IN is excluded). Every other subquery is compiled
// through eval's Hook and run per outer row by the Runner sql/exec
// supplies; uncorrelated ones run once and are cached. Correlated
// references read the current outer row through a cell the enclosing
// expression sets before running the subquery.
//
// Set operations (setop.go): UNION ALL is union-all; UNION is distinct
// over it; INTERSECT and EXCEPT are a semi-join / anti-join on all columns
// (NULLs equal) under a distinct. INT64 and FLOAT64 columns unify to
// FLOAT64. ORDER BY / LIMIT apply to the whole result. WITH names are
// planned at each reference as derived tables (non-recursive).
//
// Planner.Logical (EXPLAIN (LOGICAL)) turns off the physical choices:
// full scans with filters, nested loops, no sort elision or pushdown.
//
// Statistics (stats.go): with Planner.Stats set, scans carry row
// estimates (EXPLAIN estimated_rows) and a secondary-index range expected
// to return more than a quarter of the table becomes a full scan.
//
// EstimatedCost is a simple rows-touched cost shown by EXPLAIN; it does
// not steer choices. Not yet: a cost-based planner, dynamic-programming
// join ordering, statistics for joins.
package plan
