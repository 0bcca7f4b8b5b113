package rpc

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// Frame is the one message type on the wire: opaque bytes that each
// service encodes and decodes itself.
type Frame struct {
	Data []byte
}

// rawCodec passes Frames through unchanged.
type rawCodec struct{}

// codecName names the codec in the content type ("application/grpc+camus-raw").
const codecName = "camus-raw"

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Name() string { return codecName }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	f, ok := v.(*Frame)
	if !ok {
		return nil, fmt.Errorf("rpc: cannot marshal %T, want *rpc.Frame", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(f.Data)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	f, ok := v.(*Frame)
	if !ok {
		return fmt.Errorf("rpc: cannot unmarshal into %T, want *rpc.Frame", v)
	}
	// Materialize copies: data is freed when we return.
	f.Data = data.Materialize()
	return nil
}

// maxMessageBytes bounds one frame (Raft snapshots travel in chunks of
// snapshotChunkBytes, snapshot.go).
const maxMessageBytes = 1 << 30

// ServerOptions are the options every node's gRPC server needs.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
	}
}

// callOptions are the per-call options of every client call.
func callOptions() []grpc.CallOption {
	return []grpc.CallOption{
		grpc.ForceCodecV2(rawCodec{}),
		grpc.MaxCallRecvMsgSize(maxMessageBytes),
		grpc.MaxCallSendMsgSize(maxMessageBytes),
	}
}
