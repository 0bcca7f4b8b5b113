// Package replica is the node's consensus layer and write-ahead log: every
// partition is one etcd/raft group (a raft.RawNode), and one Store drives
// all the groups of a node. It is the only importer of go.etcd.io/raft/v3.
//
// Usage:
//
//	store, err := replica.NewStore(replica.Config{NodeID: 1, Engine: eng, Partitions: 4})
//	if err != nil { ... }
//	if err := store.Start(); err != nil { ... }
//	defer store.Stop()
//	if err := store.WaitReady(ctx, 1); err != nil { ... } // standalone: milliseconds
//	start, _ := storage.DataSpan(1)
//	key := append(start, "k"...)
//	err = store.Propose(ctx, 1, replica.Command{Writes: []replica.Write{{Key: key, Value: v}}})
//	// on nil, the write is applied: eng.Get(key) sees it.
//
// One driver goroutine ticks every group, hands queued proposals to raft,
// collects every group's Ready, applies committed entries (with the
// applied index, in one unsynced batch), appends all the groups' entries
// and hard states in one batch whose fsync a syncer goroutine waits for
// (etcd raft's asynchronous storage writes: proposals that come meanwhile
// share the next append and fsync — group commit), and sends messages
// through the Transport. Commands are raw write batches evaluated by the
// leader's kv layer; the state machine applies them blindly.
//
// Guarantees (see OVERVIEW.md for the reasoning):
//   - Propose returns nil only after the entry is committed (durable on a
//     majority; standalone: fsynced locally) and applied locally.
//   - On restart, every committed entry after the applied index is
//     re-applied before the partition can become Ready; uncommitted entries
//     are never applied. Application is deterministic and idempotent by
//     index.
//   - Logs are truncated behind the applied index only, atomically with the
//     applied state; lagging followers are caught up with a snapshot of the
//     partition's data span.
//   - A command evaluated in one term and appended in another is applied as
//     a no-op and its proposer gets a *kvpb.RetryError.
//   - Leaders spread over the nodes: partition p prefers node
//     voters[(p-1) % len(voters)] and the current leader transfers
//     its lease, then leadership, to it once it is caught up
//     (Config.DisableLeaderBalancing).
//   - Partitions with several voters have a lease, replicated through the
//     log (leases.go, package lease); Store.Admit admits a request only on
//     the leaseholder while its lease is valid by its clock, so a deposed
//     leader never serves. See OVERVIEW.md "Leases".
//
// What it does not do: membership is static (bootstrap once, no
// configuration changes); no ReadIndex (reads are served under the lease);
// proposals are not
// forwarded to the leader (a follower rejects them with a retry error);
// snapshots are built in memory on the driver goroutine, so a partition's
// data must fit comfortably in memory; a storage error is fatal for the
// Store (Status reports it; restart from disk).
package replica
