// Package httpapi is the HTTP/JSON front door of a CamusDB node (SPEC §3).
//
// A Server is an http.Handler with one handler per endpoint of SPEC §3.3.
// Every handler turns its JSON request into one call on a session.Executor
// (the only SQL-layer dependency of this package) and the result back into
// the CamusDB-compatible JSON shapes:
//
//   - column values (SPEC §3.1) are {"type","strValue","longValue",
//     "floatValue","boolValue"}; responses always carry all five fields, an
//     OID travels as its 24-character hex in strValue, and non-finite floats
//     as the strings "NaN", "Infinity" and "-Infinity" in floatValue.
//     Requests may omit the unused fields (the field a value's type uses
//     must be present and not null: a missing value is CADB0400, never ""
//     or 0) and, as a convenience, may give a bare JSON scalar instead of
//     the object: a string is STRING, an integral number INT64, any other
//     number FLOAT64, true/false BOOL and null NULL.
//   - query results are {"status":"ok","kind","total","columns":[{"name",
//     "type"}],"rows"}; rows are objects keyed by output column name or, with
//     "rowFormat":"array", arrays in column order. Column types are the same
//     numeric codes as value types (0 when unknown).
//   - errors are {"status":"failed","code","message"} with the HTTP status of
//     errcode.HTTPStatus, computed in one place (writeError).
//
// The record endpoints (/create-table, /insert, /query, /query-by-id,
// /update, /delete) build SQL text from the request: identifiers are
// validated and back-quoted, values are always passed as parameters (never
// spliced into the text), except the DEFAULT of /create-table, which is
// rendered as an escaped literal because a schema cannot keep a parameter.
//
// The hot path avoids reflection: /execute-sql-* bodies in the shape the
// clients send are scanned by hand (decode.go; anything else goes through
// encoding/json, the reference for meaning and error messages) and results
// are written by a hand-rolled encoder (encode.go).
//
// Guarantees:
//   - malformed JSON or a field of the wrong type is 400 CADB0400; a body over
//     Options.MaxBodyBytes is 413 CADB0400; an unknown path is 404 and a wrong
//     method 405 (both CADB0400), always with the JSON error body;
//   - a panic in a handler is recovered into 500 CADB0099 and the server keeps
//     serving;
//   - while Options.Ready reports false, every endpoint except /metrics and
//     /cluster/status answers 503 with CADB0504 (retry later); /ping included,
//     so clients can poll /ping for readiness;
//   - a statement (the SQL and record endpoints) runs under its statement
//     timeout: the request's "timeoutMs", else Options.RequestTimeout (or
//     Options.StatementTimeout when shorter); past it CADB0507 (408). A
//     client that disconnects cancels its statement (CADB0506). Other
//     endpoints run under Options.RequestTimeout; an uncoded error after
//     that deadline is reported as CADB0504;
//   - a declared Content-Length over Options.MaxBodyBytes is 413 before
//     the body is read; at most Options.MaxConcurrent requests run at once
//     with Options.MaxQueued waiting, beyond that 503 CADB0508 (/ping,
//     /metrics, /cluster/status and AdmissionExempt requests are not
//     counted); a result whose JSON exceeds Options.MaxResultBytes is
//     CADB0509 and nothing of it is sent;
//   - /metrics serves the Prometheus registry given in Options (request counts
//     and latency by endpoint and HTTP status, errors by CADB code).
//
// Authentication (auth.go): with Options.Auth set, every endpoint except
// /ping and /metrics needs HTTP Basic credentials, unless Auth trusts the
// client (loopback node, no root password yet); missing, malformed or
// wrong credentials are 401 CADB0020 with WWW-Authenticate. The request then
// runs as that user (session.WithUser), so a denied statement is 403
// CADB0021 from the code table.
//
// Not done here: session tokens (POST /login), forwarding a transaction's request to its
// coordinator node (the Executor's job), streaming of huge results (a result
// is encoded in memory before it is written, and refused past
// MaxResultBytes).
package httpapi
