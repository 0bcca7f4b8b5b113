// Package lease caches table and database descriptors on every node under
// time-bounded schema leases kept in KV, so that queries and DML resolve the
// tables they name without a KV read (the descriptor key still joins their
// transaction's read set: Txn.RecordRead).
//
// A lease is a row (descriptor key, node) -> expiration in the system
// bucket. A node acquires one in a transaction that reads the descriptor
// and writes the row; the cached copy then serves every read-only
// statement whose read timestamp lies in [the acquisition's read
// timestamp, the expiration). Leases in use are renewed in the background
// before they expire; a node that cannot renew stops serving its copy at
// expiry, on its own clock.
//
// A change of a descriptor (any DDL) drains the leases on it before it
// commits (Drain): it writes a drain marker for the key (nodes that see it
// stop acquiring leases on that key and release the ones they hold: they
// drop the cached copy first, then delete their row), waits until no
// lease row on the key is live, and makes the DDL transaction commit above
// that moment and before the marker ends. Every statement that used the
// previous version therefore read below the new version's commit
// timestamp, and no statement reads with a copy older than the descriptor
// at its read timestamp: at most one version is ever in use per read
// timestamp, which is stronger than the two-version invariant staged
// schema changes need (they may use it to relax the wait).
//
// DDL, and every statement of a transaction after it changed a
// descriptor, read descriptors through their transaction as before (DDL
// sees its own uncommitted descriptors). Without timestamps on its transactions (a DB
// that is not a catalog.ClockedDB) the manager is disabled and every
// statement reads through its transaction.
package lease
