// Package kvtest is an in-process harness for the transaction layer's
// correctness tests: a Node is one standalone node's real stack — a Pebble
// engine (on a crashable in-memory file system or in a directory), a
// replica.Store with N single-voter partitions, a kvserver.Server and a
// kv.DB — that can crash and restart as a new incarnation (epoch).
//
// A crash keeps only what the engine had made durable (a crash image of the
// in-memory file system). Requests in flight when the node crashes fail: a
// request that mutates (commit, prepare, record) and had not answered
// before the crash answers *kvpb.AmbiguousError, so that a test never
// counts as acknowledged a write the crash image may lack.
//
// Faults: SetBeforeCommitRecord abandons a commit between prepare and
// commit record (kv.TestingKnobs); SetFault fails requests before they
// reach the kv server; SetLostReply turns successful writes into
// ambiguous answers.
//
// Only tests import this package.
package kvtest
