// Package mvcc stores versioned user keys inside one partition's data span
// of the storage engine, and the provisional writes (intents) and
// transaction records of the transaction protocol.
//
// Layout (after storage.PrefixData | partitionID, see OVERVIEW.md):
//
//	'k' | esc(userKey) | 0x00 0x01                      intent ("meta") of userKey, if any
//	'k' | esc(userKey) | 0x00 0x01 | ^wall | ^logical    committed version at that timestamp
//	'x' | txnID                                          transaction record
//
// esc() replaces 0x00 by 0x00 0xFF, so the encoded user keys are prefix-free
// and order-preserving; the intent of a key sorts just before its versions
// and versions sort newest first (inverted timestamp), so "newest version at
// or below ts" is one seek and "is there an intent" is the same seek.
//
// The package is pure: functions read through a storage.Reader and write
// through a storage.Writer; they never decide about transactions. The kv
// layer's evaluator (internal/kv/kvserver) decides and proposes the writes
// through Raft.
package mvcc
