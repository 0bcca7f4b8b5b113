package httpapi

import "context"

// StatusProvider reports the state of the cluster for GET /cluster/status.
type StatusProvider interface {
	ClusterStatus(ctx context.Context) (ClusterStatus, error)
}

// StatusFunc adapts a function to StatusProvider.
type StatusFunc func(ctx context.Context) (ClusterStatus, error)

// ClusterStatus implements StatusProvider.
func (f StatusFunc) ClusterStatus(ctx context.Context) (ClusterStatus, error) { return f(ctx) }

// ClusterStatus is the body of /cluster/status (SPEC §3.3) without "status".
type ClusterStatus struct {
	NodeID     uint64            `json:"nodeId"`
	Nodes      []NodeStatus      `json:"nodes"`
	Partitions []PartitionStatus `json:"partitions"`
}

// NodeStatus describes one member node.
type NodeStatus struct {
	ID          uint64 `json:"id"`
	Name        string `json:"name"`
	RaftAddress string `json:"raftAddress"`
	HTTPAddress string `json:"httpAddress"`
	Live        bool   `json:"live"`
}

// PartitionStatus describes one partition as this node sees it.
type PartitionStatus struct {
	ID           uint64   `json:"id"`
	Leader       uint64   `json:"leader"`
	Term         uint64   `json:"term"`
	AppliedIndex uint64   `json:"appliedIndex"`
	Replicas     []uint64 `json:"replicas"`
}
