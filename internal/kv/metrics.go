package kv

import "sync/atomic"

// Metrics are cumulative counters of one coordinator.
type Metrics struct {
	Begun           uint64 // transactions begun
	CommitsReadOnly uint64 // read-only commits (no writes)
	Commits1PC      uint64 // one-partition commits
	Commits2PC      uint64 // multi-partition commits
	Conflicts       uint64 // commits or reads failed with a conflict (CADB0502)
	Retries         uint64 // commits or reads failed with a retry error (CADB0504)
	Ambiguous       uint64 // commits whose outcome is unknown (CADB0505)
	IntentWaits     uint64 // times a request waited for another transaction's intent
	IntentsPushed   uint64 // abandoned transactions aborted by this node
	// UncertaintyRestarts counts reads that met a version within their
	// uncertainty interval and moved their transaction's timestamp.
	UncertaintyRestarts uint64
	// Deadlocks counts waits refused because they would close a cycle of
	// waiting transactions (on this node or across nodes).
	Deadlocks uint64
}

type metrics struct {
	begun, readOnly, onePC, twoPC, conflicts, retries, ambiguous, intentWaits, pushed,
	uncertaintyRestarts, deadlocks atomic.Uint64
}

// Metrics returns a snapshot of the coordinator's counters.
func (db *DB) Metrics() Metrics {
	m := &db.metrics
	return Metrics{
		Begun: m.begun.Load(), CommitsReadOnly: m.readOnly.Load(), Commits1PC: m.onePC.Load(),
		Commits2PC: m.twoPC.Load(), Conflicts: m.conflicts.Load(), Retries: m.retries.Load(),
		Ambiguous: m.ambiguous.Load(), IntentWaits: m.intentWaits.Load(), IntentsPushed: m.pushed.Load(),
		UncertaintyRestarts: m.uncertaintyRestarts.Load(), Deadlocks: m.deadlocks.Load(),
	}
}
