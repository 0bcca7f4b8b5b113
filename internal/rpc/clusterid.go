package rpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// clusterIDHeader carries the sender's cluster id on every call, once the
// sender knows it.
const clusterIDHeader = "camus-cluster-id"

// SetClusterID sets the id of the cluster this node belongs to: from then
// on every call carries it, and calls from a node that names another
// cluster are refused (and logged). A node that does not know its cluster
// id yet (a new cluster being bootstrapped) sends none and checks none.
func (n *Network) SetClusterID(id string) { n.clusterID.Store(&id) }

// ClusterID returns the cluster id set by SetClusterID ("" before).
func (n *Network) ClusterID() string {
	if p := n.clusterID.Load(); p != nil {
		return *p
	}
	return ""
}

// checkClusterID refuses a call whose sender names a cluster other than
// ours.
func (n *Network) checkClusterID(ctx context.Context) error {
	ours := n.ClusterID()
	if ours == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(clusterIDHeader)
	if len(vals) == 0 || vals[0] == ours {
		return nil
	}
	theirs := vals[0]
	from := "unknown address"
	if p, ok := peer.FromContext(ctx); ok {
		from = p.Addr.String()
	}
	n.foreignMu.Lock()
	if n.foreignLogged == nil {
		n.foreignLogged = map[string]bool{}
	}
	first := !n.foreignLogged[theirs]
	n.foreignLogged[theirs] = true
	n.foreignMu.Unlock()
	if first {
		n.logger.Error("rpc: refusing a node of another cluster (logged once per cluster id): its data directory belongs to a different cluster, or its peer list points at the wrong nodes",
			"from", from, "its_cluster", theirs, "our_cluster", ours)
	}
	return status.Error(codes.PermissionDenied, fmt.Sprintf("rpc: this node belongs to cluster %s, the caller to cluster %s", ours, theirs))
}

func (n *Network) outgoing(ctx context.Context) context.Context {
	if id := n.ClusterID(); id != "" {
		return metadata.AppendToOutgoingContext(ctx, clusterIDHeader, id)
	}
	return ctx
}

func (n *Network) unaryServerCheck(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := n.checkClusterID(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (n *Network) streamServerCheck(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := n.checkClusterID(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}

func (n *Network) unaryClientStamp(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(n.outgoing(ctx), method, req, reply, cc, opts...)
}

func (n *Network) streamClientStamp(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return streamer(n.outgoing(ctx), desc, cc, method, opts...)
}
