// Package testcluster starts in-process clusters of N camusdb nodes on
// loopback ports for tests.
//
// Every node is a real server.Node (Pebble on disk under t.TempDir(), etcd
// raft, gRPC between nodes, the HTTP API), so a test talks to the cluster
// exactly as a client would. Listeners are bound on 127.0.0.1:0 before any
// node starts, so that every node's static peer list names the real ports;
// a stopped node restarts on the same ports and data directory.
//
//	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
//	url := c.URL(0)            // http://127.0.0.1:port of node 0
//	c.StopNode(1)              // clean stop; RestartNode(1) brings it back
//	leader := c.LeaderOf(2)    // index of the node leading partition 2
//
// Everything is stopped in t.Cleanup. Nodes start concurrently: a node
// becomes ready (every partition has a leader) only once a quorum runs.
package testcluster
