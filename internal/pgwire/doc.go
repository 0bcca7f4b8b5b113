// Package pgwire serves the PostgreSQL wire protocol (version 3.0, SPEC §4)
// on top of a session.Executor, so psql, pgx, database/sql (pgx stdlib) and
// pgbench can talk to CamusDB.
//
//	srv, err := pgwire.New(pgwire.Config{Executor: sessionServer})
//	go srv.Serve(listener)           // one goroutine per connection
//	...
//	srv.Shutdown(ctx)                // stop accepting, end every connection
//
// # What is served
//
//   - Startup: protocol 3.0 (a 3.2 request is answered with
//     NegotiateProtocolVersion and served as 3.0); authentication through
//     Config.Auth (auth.go): trusted, or SCRAM-SHA-256 (AuthenticationSASL,
//     SASLContinue, SASLFinal), a failure is FATAL 28P01 and a malformed
//     exchange 08P01; statements then run as the authenticated user;
//     the "database" parameter (default: the user name, as in PostgreSQL)
//     must name an existing database, else FATAL 3D000; "postgres" always
//     exists (MaintenanceDatabase: the first connection creates it). SSLRequest is
//     answered 'S' and the connection upgraded when Config.TLS is set, 'N'
//     otherwise; GSSENCRequest is answered 'N'. Each connection gets
//     BackendKeyData (process id + random secret); a CancelRequest with a
//     matching pair cancels the statement that connection is running
//     (CADB0506, 57014; inside a transaction block the block fails),
//     anything else is ignored, as PostgreSQL does. A client that closes
//     its socket while a statement runs cancels it (watch.go).
//   - statement_timeout: SET statement_timeout = '5s' | 5000 | TO ...,
//     SET SESSION ..., RESET, SET ... DEFAULT and SHOW statement_timeout
//     (timeout.go), also as a startup parameter (statement_timeout, or
//     options=-c statement_timeout=...; a bad value is FATAL 22023). A statement running longer fails with CADB0507
//     (57014); unset, the node default sql_statement_timeout_ms applies
//     (Config.DefaultStatementTimeout is what SHOW reports then); 0 turns
//     it off.
//   - Simple query: a Query message may hold several ';'-separated
//     statements; they run in order and the first error ends the message.
//     Outside a transaction block, a message of several statements that
//     all read or write rows (SELECT, INSERT, UPDATE, DELETE, WITH,
//     VALUES) is one implicit transaction, as in PostgreSQL: an error rolls
//     back the statements before it. A message that also holds DDL or
//     transaction control runs each statement in its own transaction.
//   - Extended query: Parse/Bind/Describe/Execute/Sync/Close/Flush with
//     named and unnamed statements and portals, $1..$n parameters in text
//     or binary format (int2/int4/int8, float4/float8, bool, text/varchar),
//     results in text or binary per column, Execute with a row limit
//     (PortalSuspended). After an error the messages up to Sync are
//     skipped.
//   - Transactions: BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT
//     open and end a session transaction (session.Request.Txn); the
//     ReadyForQuery status is I, T or E. As in PostgreSQL, any error inside
//     a transaction block fails it: later statements get 25P02 until
//     COMMIT (answered ROLLBACK) or ROLLBACK. The session's open
//     transaction is rolled back when the connection ends.
//   - Errors are ErrorResponse with the SQLSTATE of errcode.SQLState and
//     the CADB code at the start of the message ("CADB0300: ...").
//   - Command tags: SELECT n, INSERT 0 n, UPDATE n, DELETE n, CREATE
//     TABLE, DROP INDEX, BEGIN, COMMIT, ROLLBACK, SET, ...
//
// # Types
//
// Result columns take the OID of their value kind (types.T.PG, the
// mapping pg_catalog shares): INT64 → int8 (20), FLOAT64 → float8 (701),
// BOOL → bool (16, text 't'/'f'), BYTEA → bytea (17; binary is the raw
// bytes, text the \x hex form), DATE → date (1082), TIMESTAMP →
// timestamp (1114), TIMESTAMPTZ → timestamptz (1184), INTERVAL → interval
// (1186; binary forms count from 2000-01-01 as PostgreSQL's), NUMERIC →
// numeric (1700, PostgreSQL's base-10000 binary form), UUID → uuid (2950),
// JSONB → jsonb (3802), STRING and
// OID → text (25; an OID is its 24 hex characters), a column of unknown
// type (all NULL) → text.
//
// Parameters take their type from the OIDs in Parse when given. A
// parameter without one (OID 0, what pgx and database/sql send) is typed
// from its text: an integer literal is INT64, an exponent literal or a
// decimal FLOAT64 gives back as written FLOAT64, another decimal ("1.50")
// an exact NUMERIC, "t"/"true"/"f"/"false" BOOL, anything else STRING. If
// the statement then fails with CADB0400 (e.g. comparing a STRING column
// with the INT64 inferred from "42"), it is run once more with every
// inferred parameter as STRING. Describe of a statement reports such
// parameters with OID 0 (unspecified), which makes pgx send them as text.
//
// Describe of a statement answers ParameterDescription, then for a query
// (SELECT, WITH, VALUES) the RowDescription of its plan with NULL
// parameters (session.Request.DescribeOnly: planned, not run) when every
// column's type is known that way, else NoData: the result shape then
// comes with the portal. Describe of a portal that produces rows (SELECT, WITH, SHOW,
// DESCRIBE, EXPLAIN, VALUES, and any statement with RETURNING outside
// literals) runs the statement then and answers its
// RowDescription; other statements answer NoData and run at Execute. pgx
// (v5.12+) sends Describe portal when a statement described no fields.
//
// # Session settings
//
// Each connection has a session.Settings (the run-time parameters): the
// start-up packet's parameters set their defaults (a bad value is a FATAL
// 22023, unknown names are ignored), and every reported one (PostgreSQL's
// GUC_REPORT: client_encoding, DateStyle, TimeZone, application_name,
// standard_conforming_strings, ...) is sent as ParameterStatus at start-up
// and again whenever SET, RESET, RESET ALL, DISCARD ALL or a rollback
// that undoes a SET changes it. SET [SESSION|LOCAL], RESET, SHOW name,
// SHOW ALL, current_setting() and set_config() are ordinary statements
// run by the session server with session.Request.Settings; it answers
// them (unknown names 42704, bad values 22023), and its notices (an
// isolation level upgraded to SERIALIZABLE) go out as NoticeResponse.
// The connection reads standard_conforming_strings for its literal
// dialect and extra_float_digits for float text output.
//
// # Client statements answered here
//
// A few PostgreSQL-specific statements are answered without reaching the
// SQL layer: DISCARD ALL (also resets the settings), DEALLOCATE
// [ALL|name], SELECT current_user / session_user, SELECT pg_backend_pid().
//
// The server reports server_version "16.0" (psql and drivers parse it)
// and standard_conforming_strings "on" (pgx requires it for its simple
// protocol mode), and means it: statements are parsed with
// parser.Options.StandardStrings (session.Request.StandardStrings), so a
// backslash in '...' is an ordinary character, E'...' has C-style escapes
// and U&'...' Unicode escapes, and "..." is an identifier. Statement splitting and $n counting use the
// same rules (parser.SplitStatementsWith, parser.ScanCode).
//
// # Not done
//
// LISTEN/NOTIFY (parse and answer 0A000 naming the feature), COPY with a
// file of the server (COPY FROM STDIN / TO STDOUT work: copy.go,
// copyfmt.go), authentication methods other than SCRAM-SHA-256, the function call
// protocol, cursors (DECLARE/FETCH). (psql's \d family works: the SQL
// layer generates pg_catalog and information_schema; TypeOID is the type
// mapping it shows.) A
// multi-statement Query holding DDL or transaction control is not one
// implicit transaction (PostgreSQL runs it atomically): each statement
// commits on its own. Neither is an extended-protocol pipeline (several
// Execute before one Sync, e.g. a pgx Batch): each Execute commits on its
// own.
//
// # Guarantees
//
// No input panics the server: malformed messages end the connection with
// a FATAL 08P01; a panic in a connection's goroutine is recovered, logged
// and ends only that connection. Messages are bounded by
// Config.MaxMessageBytes and startup by Config.StartupTimeout. Shutdown
// ends every connection (FATAL 57P01 to idle ones, cancelling running
// statements) and waits for their goroutines.
package pgwire
