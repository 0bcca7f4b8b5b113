// Package kvserver is the partition-leader side of the transaction
// protocol: it serves MVCC reads and evaluates commits, prepares, refreshes,
// intent resolutions and transaction-record updates against the
// partition's applied state, then proposes the resulting raw writes through
// Raft ("proposer-evaluated" commands: followers just apply the writes).
//
// Correctness rests on three mechanisms, described in ../OVERVIEW.md:
// latches (conflicting requests on one partition are serialised, and write
// latches are held until the command is applied), the leader's HLC as the
// timestamp-cache low-water mark (every read forwards the clock to its read
// timestamp before it reads, and every write gets clock.Now() at
// evaluation, so no write lands below a read already served), and read-set
// validation (a commit fails if a key it read changed after its read
// timestamp).
package kvserver
