// Package clienttest provides a fake CamusDB HTTP server for tests of code
// that talks to CamusDB through package client (the shell, dump, workloads).
//
// The fake speaks the wire format of SPEC §3 as internal/httpapi writes it
// (column value objects, "kind", "rowsAffected" and "databaseName" fields,
// status and error bodies with the SPEC §3.2 HTTP statuses, both row
// formats) and keeps a real transaction table: BEGIN / START TRANSACTION (as SQL or
// /start-transaction) hand out (txnIdPT, txnIdCounter), COMMIT / ROLLBACK end
// them, and a request naming an unknown transaction fails with CADB0501.
// Every other statement is answered by the test's Handler.
//
// It does not parse SQL: the handler decides from the statement text. It
// guarantees nothing about performance and must not be used outside tests.
package clienttest
