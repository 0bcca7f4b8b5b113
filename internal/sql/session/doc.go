// Package session executes SQL statements for the protocol front-ends
// (HTTP, pgwire): it implements Executor (api.go) over a catalog.DB.
//
// What it does:
//   - parses statements through a cache keyed by SQL text (TTL, LRU bound);
//   - runs every statement without Request.Txn in its own transaction,
//     retrying it internally (Config.MaxRetries times, jittered exponential
//     backoff from 1 ms to 64 ms) on retryable kv errors;
//   - keeps explicit transactions in a table keyed by TxnHandle{PT: unix
//     ms at BEGIN, Counter: per-server counter}; statements naming a
//     handle run inside it one at a time; a transaction idle longer than
//     Config.TxnIdleTimeout is rolled back by a reaper goroutine (stopped
//     by Close);
//   - hands out sequence values (nextval, setval) in small transactions
//     of their own, never the statement's, with this node's cache of
//     blocks for CACHE n sequences, and keeps currval/lastval per session
//     (sequence.go);
//   - maps errors to CADB codes once, here: kv ConflictError → CADB0502,
//     RetryError → CADB0504, AmbiguousError → CADB0505, CorruptionError →
//     CADB0014, closed transaction → CADB0501, context expiry → CADB0504;
//     errors that already carry a code pass through; anything else is
//     CADB0099.
//
// Errors inside an explicit transaction (PostgreSQL-like): a statement
// that fails before its writes reach the transaction (unique or NOT NULL
// violation, unknown table, bad expression... every statement buffers its
// writes, see exec.WriteBuffer) leaves the transaction usable. Any other
// failure (a kv error: conflict, retry, ambiguity) aborts it: the kv
// transaction is rolled back, later statements fail with CADB0501 until
// ROLLBACK (which succeeds), and COMMIT returns the error that aborted it
// (e.g. CADB0502, so the client retries the whole transaction).
// COMMIT/ROLLBACK without a transaction are CADB0501; BEGIN inside one is
// CADB0400.
//
// Running statements (queries.go): every Execute registers its statement
// (id "<node>-<seq>", client, start, SQL, phase, a memory hook filled by
// the memory monitor) for SHOW QUERIES and CANCEL QUERY, under a context
// bounded by the statement timeout (Request.Timeout, else
// Config.StatementTimeout). A statement whose context ends fails with the
// cause: CADB0507 for a timeout (naming the setting), CADB0506 for CANCEL
// QUERY, a front end's cancel or a client gone away; inside an explicit
// transaction it aborts the transaction and rolls it back at once (locks
// released), whatever the statement's own error was. BEGIN past
// Config.MaxOpenTxns (txn_max_open) is CADB0508 (retryable).
//
// Not done here: forwarding a request to the node that coordinates its
// transaction (Config.NodeID is reserved for it), schema leases.
package session
