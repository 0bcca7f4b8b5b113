// Package builtins implements the scalar SQL functions of SPEC §2.6 and
// CAST.
//
// Lookup(name) returns an immutable *Func; package eval calls Check once
// at compile time (argument count and the statically known kinds) and
// Call per row. Names are case-insensitive. Aggregates and the lazy
// special forms COALESCE, NULLIF and IFNULL live in package eval.
//
// # Conventions
//
//   - NULL in → NULL out, unless a function says otherwise (concat skips
//     NULLs; json_valid(NULL) is false).
//   - Bad arguments (wrong kind, substring start < 1, sqrt of a negative,
//     mod by zero, an unparsable date, a bad JSON path, a bad cast) are
//     *errcode.Error CADB0400. No function panics on any input.
//   - Strings are UTF-8; lengths and positions count characters.
//   - Date/time values are STRINGs. Inputs are YYYY-MM-DD or RFC 3339 with
//     Z or a numeric offset (a space may replace the T); a timestamp
//     without zone is an error. Outputs are UTC with 7 fractional digits:
//     2024-06-16T00:00:00.0000000+00:00. Units: year, month, day, hour,
//     minute, second, millisecond (plurals accepted, any case).
//   - JSON functions read STRING values; paths are $, .name and [n] only.
//     Invalid JSON gives NULL (json_valid: false); an invalid path is an
//     error.
//   - gen_id() makes 12-byte ids: 4 bytes big-endian unix seconds, 5
//     random bytes chosen once per process, a 3-byte counter (see
//     IDGenerator). The process-wide generator is the package's only
//     mutable state.
//
// # Volatility
//
// gen_id() and random() are Volatile (never folded, new value per call);
// now(), current_timestamp(), current_date() and unix_timestamp() are
// Volatile but StatementStable: they read Context.Now, fixed for a
// statement, so folding them once per statement is correct.
package builtins
