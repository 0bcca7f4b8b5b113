package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// maxIntentRounds bounds how often one request resolves intents and retries.
const maxIntentRounds = 200

// Waiting on the intent of a live transaction: a reader waits in the
// partition's queue up to readerWait per round; a request that holds intents
// of its own (prepare, refresh, the home commit) waits up to holderWait per
// round and at most holderRounds rounds, and never when waiting would close
// a cycle of waits (a deadlock), on this node or across nodes.
const (
	readerWait   = 50 * time.Millisecond
	holderWait   = 20 * time.Millisecond
	holderRounds = 10
)

// maxDeadlockProbes bounds the coordinators one cycle check asks; a cycle
// longer than that is broken by the bounded wait instead.
const maxDeadlockProbes = 8

// WaitEdge is one edge of the waits-for graph: a transaction and the node
// coordinating it.
type WaitEdge struct {
	Txn  mvcc.TxnID
	Node uint64
}

// CoordinatorState is what a coordinator says about one of its
// transactions: its incarnation (epoch), whether the transaction is still
// committing, and which transactions it currently waits for.
type CoordinatorState struct {
	Epoch      uint64
	Committing bool
	WaitsFor   []WaitEdge
}

// CoordinatorProber is an optional Sender capability: asking another node
// about one of its transactions (see CoordinatorState).
type CoordinatorProber interface {
	ProbeCoordinator(ctx context.Context, node uint64, id mvcc.TxnID) (CoordinatorState, error)
}

// waitEdge counts the waits of one transaction for another.
type waitEdge struct {
	n    int
	node uint64 // the owner's coordinator
}

// CoordinatorStatus answers a probe about a transaction of this node.
func (db *DB) CoordinatorStatus(id mvcc.TxnID) CoordinatorState {
	return CoordinatorState{Epoch: db.cfg.Epoch, Committing: db.isCommitting(id), WaitsFor: db.waitsOf(id)}
}

// waitsOf lists the transactions id waits for on this node.
func (db *DB) waitsOf(id mvcc.TxnID) []WaitEdge {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []WaitEdge
	for owner, e := range db.mu.waitsFor[id] {
		out = append(out, WaitEdge{Txn: owner, Node: e.node})
	}
	return out
}

// handleIntent decides what to do about another transaction's intent met
// at key in partitionID: resolve it when the owner's outcome is known, abort
// the owner when its coordinator is gone, or wait in the partition's queue
// when it is alive and committing. The caller retries its request after.
// holder is the transaction making the request when that request holds
// intents of its own, nil for plain reads.
//
// Deadlocks: a holder about to wait records the edge holder → owner in
// this node's waits-for graph, then follows the owner's own waits, asking
// their coordinators (the intent names each owner's node) when they are
// elsewhere. If the walk comes back to the holder, waiting would never end:
// the older transaction of the two pushes (aborts) the younger, and the
// younger gives way with a conflict. Both sides see the cycle once both
// edges exist, so it is broken within one wait round; a cycle the walk
// cannot see (too long, a node unreachable) ends by the bounded wait.
func (db *DB) handleIntent(ctx context.Context, partitionID uint64, ie *mvcc.IntentError, round int, holder *holderTxn) error {
	in := ie.Intent
	rec, err := db.sender.GetTxnRecord(ctx, in.Home, in.TxnID)
	if err != nil {
		return err
	}
	if rec == nil || rec.Status == mvcc.TxnPending {
		alive, ownerWaits := db.ownerState(ctx, in)
		push := !alive
		if alive {
			db.metrics.intentWaits.Add(1)
			if holder == nil {
				return db.sender.WaitIntent(ctx, partitionID, ie.Key, in.TxnID, readerWait)
			}
			deadlock := !db.addWait(holder.id, in.TxnID, in.CoordNode)
			if !deadlock {
				defer db.removeWait(holder.id, in.TxnID)
				deadlock = db.reachesAcrossNodes(ctx, holder.id, ownerWaits)
			}
			if deadlock {
				db.metrics.deadlocks.Add(1)
			}
			if !deadlock && round < holderRounds {
				if hook := db.cfg.Knobs.OnHolderWait; hook != nil {
					hook(holder.id, in.TxnID)
				}
				return db.sender.WaitIntent(ctx, partitionID, ie.Key, in.TxnID, holderWait)
			}
			// Waiting longer is not allowed: the younger side gives way.
			if holder.priority >= in.Priority {
				reason := "is being committed by"
				if deadlock {
					reason = "is in a deadlock with"
				}
				return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q %s transaction %s", ie.Key, reason, in.TxnID)}
			}
			push = true
		}
		if push {
			db.metrics.pushed.Add(1)
			rec, err = db.sender.FinalizeTxn(ctx, in.Home, in.TxnID, &mvcc.TxnRecord{Status: mvcc.TxnAborted, StartWall: in.Priority})
			if err != nil {
				return err
			}
		}
	}
	commit := rec.Status == mvcc.TxnCommitted
	return db.sender.ResolveIntents(ctx, partitionID, []kvserver.Resolution{{TxnID: in.TxnID, Keys: [][]byte{ie.Key}, Commit: commit, CommitTS: rec.CommitTS}})
}

// holderTxn is a committing transaction that holds intents of its own.
type holderTxn struct {
	id       mvcc.TxnID
	priority int64 // start wall time: smaller = older = wins pushes
}

// addWait records that waiter waits for owner (coordinated by ownerNode),
// unless owner (transitively, on this node) waits for waiter already: then
// it reports false (a deadlock).
func (db *DB) addWait(waiter, owner mvcc.TxnID, ownerNode uint64) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	seen := map[mvcc.TxnID]bool{}
	var reaches func(from mvcc.TxnID) bool
	reaches = func(from mvcc.TxnID) bool {
		if from == waiter {
			return true
		}
		if seen[from] {
			return false
		}
		seen[from] = true
		for next := range db.mu.waitsFor[from] {
			if reaches(next) {
				return true
			}
		}
		return false
	}
	if reaches(owner) {
		return false
	}
	edges := db.mu.waitsFor[waiter]
	if edges == nil {
		edges = make(map[mvcc.TxnID]*waitEdge)
		db.mu.waitsFor[waiter] = edges
	}
	e := edges[owner]
	if e == nil {
		e = &waitEdge{node: ownerNode}
		edges[owner] = e
	}
	e.n++
	return true
}

func (db *DB) removeWait(waiter, owner mvcc.TxnID) {
	db.mu.Lock()
	defer db.mu.Unlock()
	edges := db.mu.waitsFor[waiter]
	if e := edges[owner]; e != nil {
		if e.n--; e.n <= 0 {
			delete(edges, owner)
		}
	}
	if len(edges) == 0 {
		delete(db.mu.waitsFor, waiter)
	}
}

// reachesAcrossNodes follows waits from start (the owner's edges) through
// other nodes' coordinators and reports whether they lead back to waiter.
// Edges coordinated here were already walked by addWait, except those that
// leave this node, which are followed too.
func (db *DB) reachesAcrossNodes(ctx context.Context, waiter mvcc.TxnID, start []WaitEdge) bool {
	prober, ok := db.sender.(CoordinatorProber)
	if !ok {
		return false
	}
	seen := map[mvcc.TxnID]bool{}
	queue := append([]WaitEdge(nil), start...)
	probes := 0
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e.Txn == waiter {
			return true
		}
		if seen[e.Txn] {
			continue
		}
		seen[e.Txn] = true
		if e.Node == db.cfg.NodeID {
			queue = append(queue, db.waitsOf(e.Txn)...)
			continue
		}
		if probes == maxDeadlockProbes {
			return false
		}
		probes++
		st, err := prober.ProbeCoordinator(ctx, e.Node, e.Txn)
		if err != nil {
			continue // that coordinator is gone: its transactions will be pushed
		}
		queue = append(queue, st.WaitsFor...)
	}
	return false
}

// ownerState reports whether the coordinator of an intent may still commit
// it, so that waiting is worthwhile, and what the owner waits for itself.
// Aborting a transaction whose coordinator is in fact alive is always safe
// (its commit record write then fails), so doubt resolves to "dead".
func (db *DB) ownerState(ctx context.Context, in *mvcc.Intent) (alive bool, waits []WaitEdge) {
	if in.CoordNode == db.cfg.NodeID {
		// Local waits were walked by addWait already; only the ones that
		// leave this node matter to reachesAcrossNodes.
		return in.CoordEpoch == db.cfg.Epoch && db.isCommitting(in.TxnID), db.waitsOf(in.TxnID)
	}
	if prober, ok := db.sender.(CoordinatorProber); ok {
		st, err := prober.ProbeCoordinator(ctx, in.CoordNode, in.TxnID)
		return err == nil && st.Epoch == in.CoordEpoch && st.Committing, st.WaitsFor
	}
	// No way to ask: alive until the abandonment timeout.
	return time.Duration(db.clock.Now().WallTime-in.WriteWall) < db.cfg.AbandonAfter, nil
}
