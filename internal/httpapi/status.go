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

// ConsistencyProvider is the optional capability of a StatusProvider to
// fingerprint this node's replicas: GET /cluster/status?consistency=true
// adds the checksums (a scan of every partition: for tests and operators
// checking that replicas agree, not for monitoring).
type ConsistencyProvider interface {
	Consistency(ctx context.Context) ([]PartitionChecksum, error)
}

// ClusterStatus is the body of /cluster/status (SPEC §3.3) without "status".
type ClusterStatus struct {
	NodeID uint64 `json:"nodeId"`
	// ClusterID names the cluster (empty until the node learned it).
	ClusterID  string            `json:"clusterId,omitempty"`
	Nodes      []NodeStatus      `json:"nodes"`
	Partitions []PartitionStatus `json:"partitions"`
	// Consistency is present only when asked for (?consistency=true).
	Consistency []PartitionChecksum `json:"consistency,omitempty"`
}

// PartitionChecksum fingerprints one replica: replicas reporting the same
// applied index must report the same checksum.
type PartitionChecksum struct {
	ID           uint64 `json:"id"`
	AppliedIndex uint64 `json:"appliedIndex"`
	Checksum     string `json:"checksum"`
	Keys         int    `json:"keys"`
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
