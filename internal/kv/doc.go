// Package kv is the transactional key/value layer: serializable
// transactions over the partitioned, replicated store.
//
// A Txn takes its read timestamp from the coordinator's HLC, reads from the
// partition leaders at that timestamp (recording every key and span it
// read), buffers its writes (read-your-own-writes served from the buffer),
// and at Commit either commits in one Raft command (all reads and writes in
// one partition: 1PC) or runs two-phase commit: prepare (validate + lay
// intents) on every partition it wrote, refresh its reads up to the final
// commit timestamp, write a COMMITTED transaction record on its home
// partition (the commit point), answer, and resolve intents
// asynchronously. See OVERVIEW.md for the protocol and why it is
// serializable.
//
// A Txn is not safe for concurrent use; the SQL session serialises the
// statements of one transaction.
package kv
