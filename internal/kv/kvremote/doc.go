// Package kvremote makes a node's kvserver reachable from the other nodes
// of a cluster, and routes a coordinator's requests to partition leaders.
//
// Two halves:
//
//   - Register exposes a node's kvserver (any kv.Sender) as the handler
//     of the node's rpc.Network calls (HandleCalls). It serves requests for
//     the partitions the node leads and answers the others with the
//     kvserver's not-leader *kvpb.RetryError; it never forwards.
//   - Sender implements kv.Sender for a cluster node: each request goes to
//     the partition's current leader as this node sees it (Leaders) — a
//     direct call when that is this node, an rpc.Network.Call otherwise —
//     and is re-routed with backoff on not-leader, no-leader and unreachable-node
//     failures for up to Config.RetryWait (bounded by the context), after
//     which the last *kvpb.RetryError is returned (CADB0504).
//
// Ambiguity. A request that can commit is never reported as failed when it
// may have succeeded. Commit1PC is sent only on a connection that is ready
// (a call that fails with rpc.ErrNotSent did not run); if its answer is lost it returns *kvpb.AmbiguousError at once (it is not
// idempotent). FinalizeTxn is idempotent by construction (the record
// decides once and a retry returns the decision), so a lost answer is
// retried; only if no later attempt is answered is the result ambiguous.
// Prepares, reads, refreshes, intent resolution and record reads are safe
// to repeat and are simply retried.
//
// Wire format: each request is one call of rpc.Network.Call (a frame on
// a multiplexed stream this node keeps to the callee, see
// internal/rpc/mux.go; scans and requests over 64 KiB on the bulk lane) in the compact binary encoding of wire.go. Typed kv
// errors (retry, conflict, ambiguous, corruption, intent, closed
// transaction, context errors) keep their type across the wire. Every request carries the sender's HLC timestamp and
// every response the responder's; each side checks the offset and forwards
// its clock (rpc.Network.Receive).
//
// Not done: batching several requests for one partition into one call,
// leader hints in not-leader answers (the sender waits for its own Raft
// view to learn the new leader), follower reads.
package kvremote
