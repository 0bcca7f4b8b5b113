// Package eval compiles SQL scalar expressions (ast.Expr) into closures and
// implements the aggregates.
//
// # Use
//
//	c, err := eval.Compile(expr, scope, &eval.Env{Params: params, Now: stmtTime}, hook)
//	...
//	v, err := c.Eval(row) // once per row, no map lookups, no re-interpretation
//
// Compile resolves every column through Scope once, so evaluation indexes
// the row directly. Constant subtrees (no column, no per-row volatile
// function, no Hook node) are evaluated once at compile time; constant
// LIKE patterns are precompiled; constant IN lists become hash sets.
// Parameters are read from Env at compile time (a missing one is
// CADB0400), so compile once per statement execution. The Hook is called
// first for every node; the planner uses it for subqueries and for
// references to aggregates it computes itself.
//
// Exported API: Compile, CompilePredicate, Truth (WHERE rule), CompareOp
// and Arith (operators on values), Cast, Like, and for aggregates
// IsAggregate, AggregateKind, NewAggregator.
//
// # Semantics (SPEC §2.1, §2.5)
//
//   - Three-valued logic: AND/OR/NOT with NULL as unknown, evaluated
//     left to right with short-circuit (FALSE AND x and TRUE OR x do not
//     evaluate x). Truth/CompilePredicate: only TRUE passes.
//   - Comparisons: NULL on either side gives NULL. INT64 and FLOAT64
//     compare numerically; a STRING compared with an OID is read as an
//     object id (24 lower-case hex chars, else CADB0400); any other mix of
//     kinds is CADB0400 (at compile time when both kinds are known).
//   - Arithmetic: INT64 op INT64 stays INT64; overflow, division by zero
//     and MinInt64 / -1 are CADB0400; / and % truncate toward zero. Any
//     FLOAT64 operand gives FLOAT64; a finite computation overflowing to
//     ±Inf is CADB0400. || concatenates text forms; NULL gives NULL.
//   - LIKE/ILIKE: % any run, _ one character, backslash escapes the next
//     character; ILIKE lower-cases both sides (Unicode).
//   - x IN (list): TRUE on a match, otherwise NULL if x or any item is
//     NULL, otherwise FALSE; NOT IN negates that (so a NULL in the list
//     makes NOT IN never TRUE). BETWEEN is inclusive: x >= lo AND x <= hi.
//   - CASE (both forms), COALESCE, IFNULL: branches are evaluated lazily;
//     the result kind unifies the branch kinds (INT64 with FLOAT64 gives
//     FLOAT64; other mixes are CADB0400). NULLIF(a, b) is NULL when a = b.
//   - CAST and the scalar functions are in package builtins.
//   - CURRENT_TIMESTAMP and CURRENT_DATE may be written without
//     parentheses (when no column has that name).
//
// Aggregates (NewAggregator): COUNT(*), COUNT(x), SUM, AVG (FLOAT64), MIN,
// MAX, each optionally DISTINCT; NULLs are ignored, COUNT of no rows is 0,
// the others give NULL; SUM of INT64 overflowing is CADB0400.
//
// # Guarantees
//
// Errors are *errcode.Error: CADB0400 for invalid input, CADB0404 from
// Scope for unknown columns, CADB0407 for subqueries no Hook handled,
// CADB0099 only for a broken caller contract (a row shorter than Scope
// promised). Evaluation never panics on any input values. A Compiled is
// safe for concurrent use; Eval never retains the row slice.
//
// # Not done here
//
// Subqueries (IN (SELECT), EXISTS, scalar subqueries) and aggregate calls
// inside expressions must be compiled by the planner through Hook; without
// a Hook they are errors. Folding is per subtree: FALSE AND x is not
// simplified when x depends on a column.
package eval
