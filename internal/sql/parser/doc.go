// Package parser turns CamusDB SQL text into ast trees.
//
// It is a hand-written recursive-descent parser with precedence climbing
// for expressions, covering the dialect of SPEC §2: database and table DDL
// (including ALTER TABLE in all forms and Spanner-style trailing PRIMARY
// KEY), CREATE/DROP INDEX, INSERT ... VALUES/SELECT, UPDATE, DELETE,
// queries (DISTINCT, joins, derived tables, @{FORCE_INDEX=...}, GROUP BY,
// HAVING, ORDER BY ... NULLS FIRST|LAST, LIMIT/OFFSET, UNION [ALL] /
// INTERSECT / EXCEPT, WITH), transaction control, USE, SHOW/DESCRIBE and
// EXPLAIN; PostgreSQL's session statements (SET [SESSION|LOCAL], RESET,
// SHOW name|ALL, SET TIME ZONE/NAMES/SCHEMA/TRANSACTION) as ast.SetVar,
// ast.ResetVar and ast.ShowVar; and PostgreSQL statements we do not
// implement (LISTEN, NOTIFY, COPY, CREATE VIEW, ...) as ast.Unsupported,
// which executes as CADB0407 naming the feature instead of a syntax error.
// PostgreSQL spellings: expr::type (a CastExpr, binding tighter than any
// operator), DOUBLE PRECISION / FLOAT4 / FLOAT8 / INT2 / INT4 / INT8 /
// CHARACTER [VARYING], DROP TABLE a, b [CASCADE|RESTRICT], TRUNCATE.
//
//	stmt, err := parser.Parse("SELECT name FROM robots WHERE year > @y")
//	stmts, err := parser.ParseMulti(script)       // ';'-separated script
//	texts := parser.SplitStatements(script)         // for shells: text kept
//
// # Lexical rules
//
// Keywords are case-insensitive. Identifiers fold to lower case, also in
// backticks (a backtick inside is doubled); a backticked name is never a
// keyword. Reserved keywords (ast.IsReserved) need backticks to be used as
// names; other keywords (KEY, INDEX, VALUES, ...) are plain names where a
// name is expected. Strings take single or double quotes; the quote is
// escaped by doubling it or with a backslash, \\ \n \t \r \0 are escapes
// and any other \x is x — unless Options.StandardStrings (pgwire's
// standard_conforming_strings), where a backslash is an ordinary character
// and "..." is an identifier, as in PostgreSQL (folded like every name; an
// output alias keeps its case).
// In both dialects E'...' takes PostgreSQL's C-style escapes, U&'...'
// [UESCAPE 'c'] its Unicode escapes, and $$...$$ / $tag$...$tag$ is a
// verbatim string. ParseWith, ParseMultiWith,
// SplitStatementsWith, Splitter (incremental, for shells) and ScanCode
// take the dialect; Format always writes the default one. Numbers: 42, 1.5, .5, 5., 1e300 (a number directly
// followed by a letter is an error, not an implicit alias). Comments are
// "-- ..." and "/* ... */" (not nested). Parameters are @name (case kept)
// and $n.
//
// BEGIN / START TRANSACTION accept the modes drivers send (ISOLATION LEVEL
// any-level, READ WRITE): every transaction is serializable, which
// satisfies any requested level; READ ONLY is CADB0407. END is COMMIT.
//
// # Guarantees
//
//   - Errors are *errcode.Error: CADB0406 for syntax errors, with the line,
//     the column (in characters) and the offending token, e.g.
//     `syntax error at line 1, column 10 near "FORM": expected end of statement`;
//     CADB0400 for an integer literal outside INT64 or a float outside
//     FLOAT64 and for statements nested deeper than 500 levels; CADB0401 for
//     an unknown type name; CADB0407 for valid SQL shapes we do not support
//     (INTERSECT ALL, two ORDER BY/LIMIT levels on one parenthesised query,
//     EXPLAIN of a non-query). A panic would be a bug; it is reported as
//     CADB0099, never propagated.
//   - A minus sign before a numeric literal is folded into it, so
//     -9223372036854775808 is an INT64 literal.
//   - ast.Format of any parsed statement re-parses to an equal tree
//     (checked by FuzzParse and by every golden test).
//   - Every node records the position where it starts.
//   - Input is lexed lazily, so a hostile statement costs time in
//     proportion to how far parsing gets, and recursion depth is bounded.
//
// # Not done here
//
// Name resolution, type checking, and semantic rules (UPDATE/DELETE
// without WHERE, LIMIT operand kinds, aggregate placement, whether a hint's
// index exists) belong to the planner. CROSS JOIN is parsed as an inner
// Join with a nil On.
//
// # Cache
//
// NewCache(ttl, maxEntries).Parse memoises successful parses by text with
// a TTL and an LRU bound (the sql_parser_cache_* settings). Cached
// statements are shared, so nobody may modify a parsed AST.
package parser
