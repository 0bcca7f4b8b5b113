package replica

import "go.etcd.io/raft/v3/raftpb"

// Message is a Raft message for one partition's group. raftpb.Message has
// no group id, so the partition travels next to it.
type Message struct {
	PartitionID uint64
	Msg         *raftpb.Message
	// Snap is set on a MsgSnap: Msg's snapshot data is only a reference,
	// and the transport must deliver Msg with Snap's data in its place
	// (streamed from Snap on a goroutine of its own, or Materialize), and
	// Close Snap in any case, also when it drops the message.
	Snap *OutgoingSnapshot
}

// Transport delivers Raft messages to other nodes (Msg.To is the node id).
//
// Send must not block for long (it runs on the store's driver goroutine):
// queue and return. Messages may be dropped, delayed or duplicated — Raft
// tolerates all three — but should keep their order per destination node.
// The messages and the entries they carry are shared with the store and
// must not be mutated: serialize or clone them before handing them on.
// The receiving side calls Store.Step. See Message.Snap for snapshots. A transport may report an
// unreachable node with Store.ReportUnreachable.
type Transport interface {
	Send(msgs []Message)
}
