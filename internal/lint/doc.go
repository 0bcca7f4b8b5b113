// Package lint holds the project's lint rules as ordinary Go tests, so
// `go test ./...` keeps the architecture from rotting.
//
// The layering rule (layers.go, checked by TestLayering) encodes the
// "Package layout" table of ARCHITECTURE.md: every package of the module is
// assigned a layer, and a package may import only packages of lower layers,
// its own group (its parent or subpackages), and the few same-layer packages
// the table names. Protocol front-ends (httpapi, pgwire) may import only
// sql/session and sql/types from the SQL layer plus util/*; thin mains under
// cmd/ import only internal/cli and the public client. Pebble may be imported
// only by internal/storage, etcd raft only by internal/replica (its raftpb
// messages also by internal/raftlog and internal/rpc).
//
// What it checks: the non-test imports of every package for layering, and
// test imports too for the third-party exclusivity rules. What it does not:
// test-only imports between layers (tests may reach up to build fixtures),
// and anything about packages outside the module other than pebble and raft.
// A package missing from the table is itself a violation: add it to the
// table (and to ARCHITECTURE.md) when you create it.
package lint
