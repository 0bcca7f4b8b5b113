// Package histcheck checks histories of concurrent operations recorded by
// test workloads, as Jepsen's checkers do: RegisterModel is a porcupine
// model of read/write/compare-and-set registers (linearizability), and
// CheckListAppend is an Elle-style checker of list-append transactions
// (lost appends, aborted and intermediate reads, dependency cycles: G0,
// G1, G2). Both the in-process kv tests and the process-level fault suite
// (internal/nemesis) use them. It depends on nothing of the database.
package histcheck
