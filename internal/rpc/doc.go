// Package rpc is the node-to-node transport of a cluster: one gRPC server
// per node (listening on raft_host:raft_port) and one client connection per
// peer, shared by every service that talks to that peer.
//
// There is no protoc step. Frames are raw bytes ([Frame]) carried by a
// codec forced on both sides ([ServerOptions], [DialOptions]), and services
// declare their grpc.ServiceDesc by hand: the Raft message stream
// ([RaftTransport]) and the call stream ([Network.Call], mux.go).
//
// Calls (internal/kv/kvremote's requests) are request/response pairs
// multiplexed on long-lived bidirectional streams, one per (caller, callee,
// lane) — scans and large requests take a lane of their own ([LaneBulk]):
// a gRPC unary call per request cost about four times the CPU (a new
// HTTP/2 stream, headers, metadata, a timer and a handler goroutine on
// both ends). The callee runs each request on a goroutine of its own and
// answers in any order; a caller that gives up sends a cancel frame. A
// call that failed before its request reached an open stream wraps
// [ErrNotSent]: it did not run on the callee.
//
// Raft messages travel on one client stream per destination node. Send
// marshals the messages at once (the store keeps ownership of them), queues
// them per destination and returns; one goroutine per peer drains its queue
// in order into frames of up to [maxFrameBytes]. A full queue or a broken
// stream drops messages (Raft retransmits) and reports the destination
// unreachable to the partition, so the leader probes instead of streaming.
//
// Raft snapshots do not go through that queue: each one is streamed on a
// stream of its own, from a goroutine of its own, in chunks read from the
// sender's Pebble snapshot, with a length and CRC-32C trailer (snapshot.go),
// so a large snapshot never delays the other partitions' messages.
//
// Every frame carries the sender's node id and its HLC timestamp; the
// receiver rejects (and logs) a frame stamped more than MaxClockOffset ahead
// of its physical time and otherwise forwards its clock ([CheckClock]).
// Receiving anything from a node marks it heard ([Liveness]); idle peers get
// an empty keepalive frame every [keepaliveInterval], so liveness covers
// nodes that exchange no Raft traffic with each other.
//
// Guarantees: per-destination order of messages handed to Send is kept on
// one stream; nothing else (delivery, duplicates) is guaranteed — Raft
// needs nothing else. With Config.ServerTLS and ClientTLS the connections
// are mutual TLS: a peer is authenticated by a certificate signed by the
// cluster CA (both directions), and a handshake failure makes the peer
// unreachable like a dead one. Without them, traffic is plaintext and peers
// are not authenticated. Not done: a node-id check
// against the certificate (any CA-signed node may claim any peer id).
package rpc
