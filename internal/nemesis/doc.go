// Package nemesis is the black-box fault suite: real camusdb processes on
// loopback, workloads with checkers, and nemeses that break the cluster on
// purpose while the workloads run, in the manner of Jepsen.
//
//   - Cluster starts N processes of one cluster. Node-to-node traffic goes
//     through a TCP proxy per ordered pair of nodes (proxy.go), so the suite
//     can cut any link: node i reaches node j at proxy (i, j).
//   - Nemeses (nemesis.go): kill -9 and restart, pause (SIGSTOP) and resume,
//     network partitions (isolate one node, cut a bridge: two nodes apart
//     while the third still talks to both, or cut one direction of a
//     link), clock skew (nodes started with
//     CAMUSDB_TESTING_CLOCK_OFFSET_MS within 0.8 × the maximum offset, and
//     the leaseholder paused so that leases move between skewed clocks),
//     and lease transfer storms (short pauses of whichever node leads).
//   - Workloads (workload.go), each with its checker: bank (transfers in
//     explicit transactions; every read of the total and the final total
//     equal the initial one), register (reads, writes and compare-and-sets
//     on single rows through random nodes, checked for linearizability with
//     porcupine), list-append (transactions appending to and reading lists,
//     checked by histcheck.CheckListAppend for lost writes, G1 and cycles).
//   - Run drives one workload under one nemesis and returns a Report. After
//     the checks of the workload, CheckReplicas compares every partition's
//     replicas by checksum at one applied index.
//
// Clusters may be Secure: certificates from `camusdb cert`, mutual TLS
// between nodes (through the proxies), HTTPS and a root password.
//
// Clients talk HTTP to a random node per operation. An operation's outcome
// is what a careful client may conclude: success; a retryable error
// (nothing happened); or unknown — CADB0505 or a connection lost after the
// request was sent — which the checkers treat as "may or may not have
// happened".
//
// It is test infrastructure: the package's own test runs the workload ×
// nemesis matrix (short in `go test ./...`, long with CAMUS_LONG=1).
package nemesis
