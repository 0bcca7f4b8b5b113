package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// Raft snapshots travel on a stream of their own, one per snapshot, from a
// goroutine of their own: a header frame (the MsgSnap without its data),
// data frames of at most snapshotChunkBytes read from the sender's Pebble
// snapshot as they are sent (replica.OutgoingSnapshot), and a trailer
// with the data's length and CRC-32C. The receiver gathers the data,
// checks the trailer, puts the data in the message, hands it to its store
// and answers with one frame. Meanwhile the peer's message stream carries
// every other partition's messages as usual; at most one snapshot per
// (peer, partition) is in flight (raft asks again if one is lost).

const (
	// snapshotChunkBytes is the data carried by one frame.
	snapshotChunkBytes = 1 << 20
	// maxSnapshotBytes bounds the data of one received snapshot.
	maxSnapshotBytes = 4 << 30
	// snapshotStallTimeout: a snapshot stream that makes no progress (no
	// frame sent, no answer) for this long is abandoned, so a peer that
	// stopped reading without closing its connection does not hold the
	// (peer, partition) slot forever; raft sends another snapshot.
	snapshotStallTimeout = 30 * time.Second

	snapFrameHeader  byte = 'H'
	snapFrameData    byte = 'D'
	snapFrameTrailer byte = 'T'
)

var raftSnapshotStreamDesc = grpc.StreamDesc{StreamName: "Snapshot", ClientStreams: true, Handler: snapshotStreamHandler}

const raftSnapshotMethod = "/" + raftServiceName + "/Snapshot"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errBadSnapshot is returned for a snapshot stream that cannot be decoded.
var errBadSnapshot = errors.New("rpc: malformed raft snapshot stream")

// sendSnapshot streams m (a MsgSnap with m.Snap) to peer p on a goroutine
// of its own; m.Snap is closed in every case.
func (t *RaftTransport) sendSnapshot(p *raftPeer, m replica.Message) {
	key := [2]uint64{p.id, m.PartitionID}
	t.snapMu.Lock()
	if t.snapClosed || t.snapInflight[key] {
		t.snapMu.Unlock()
		m.Snap.Close()
		return
	}
	t.snapInflight[key] = true
	t.wg.Add(1)
	t.snapMu.Unlock()
	go func() {
		defer t.wg.Done()
		defer func() {
			t.snapMu.Lock()
			delete(t.snapInflight, key)
			t.snapMu.Unlock()
		}()
		defer m.Snap.Close()
		if err := p.streamSnapshot(m); err != nil {
			t.net.logger.Debug("rpc: sending a raft snapshot failed", "peer", p.id, "partition", m.PartitionID, "err", err)
			p.reportUnreachable(map[uint64]bool{m.PartitionID: true})
			return
		}
		if t.onSnapshotSent != nil {
			t.onSnapshotSent(m.PartitionID)
		}
	}()
}

func (p *raftPeer) streamSnapshot(m replica.Message) error {
	head := proto.CloneOf(m.Msg)
	if head.Snapshot == nil {
		return errors.New("rpc: snapshot message without a snapshot")
	}
	head.Snapshot.Data = nil // a reference to the sender's store
	msgBytes, err := proto.Marshal(head)
	if err != nil {
		return err
	}
	conn, err := p.t.net.Conn(p.id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(p.t.ctx)
	defer cancel()
	stall := time.AfterFunc(snapshotStallTimeout, cancel)
	defer stall.Stop()
	stream, err := conn.NewStream(ctx, &raftSnapshotStreamDesc, raftSnapshotMethod)
	if err != nil {
		return err
	}
	header := encodeSnapshotHeader(p.t.net.cfg.NodeID, p.t.net.Stamp(), m.PartitionID, msgBytes)
	if err := stream.SendMsg(&Frame{Data: header}); err != nil {
		return err
	}
	var total uint64
	crc := crc32.New(crcTable)
	err = m.Snap.Stream(snapshotChunkBytes, func(chunk []byte) error {
		total += uint64(len(chunk))
		_, _ = crc.Write(chunk)
		// A frame of its own: gRPC may hold the message after SendMsg.
		frame := make([]byte, 0, 1+len(chunk))
		frame = append(append(frame, snapFrameData), chunk...)
		if err := stream.SendMsg(&Frame{Data: frame}); err != nil {
			return err
		}
		stall.Reset(snapshotStallTimeout)
		if hook := p.t.onSnapshotChunk; hook != nil {
			hook(m.PartitionID, total)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&Frame{Data: encodeSnapshotTrailer(total, crc.Sum32())}); err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	var ack Frame
	return stream.RecvMsg(&ack)
}

// snapshotStreamHandler receives one snapshot.
func snapshotStreamHandler(srv any, stream grpc.ServerStream) error {
	t := srv.(*RaftTransport)
	var f Frame
	if err := stream.RecvMsg(&f); err != nil {
		return err
	}
	from, ts, partitionID, msgBytes, err := decodeSnapshotHeader(f.Data)
	if err != nil {
		return err
	}
	if err := t.net.Receive(from, ts); err != nil {
		return err
	}
	msg := &raftpb.Message{}
	if err := proto.Unmarshal(msgBytes, msg); err != nil || msg.GetType() != raftpb.MsgSnap || msg.Snapshot == nil {
		return fmt.Errorf("rpc: raft snapshot from node %d: %w", from, errBadSnapshot)
	}
	var data []byte
	crc := crc32.New(crcTable)
	for {
		f = Frame{}
		if err := stream.RecvMsg(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("rpc: raft snapshot from node %d ended early: %w", from, errBadSnapshot)
			}
			return err
		}
		if len(f.Data) == 0 {
			return errBadSnapshot
		}
		if f.Data[0] == snapFrameTrailer {
			total, sum, err := decodeSnapshotTrailer(f.Data)
			if err != nil || total != uint64(len(data)) || sum != crc.Sum32() {
				return fmt.Errorf("rpc: raft snapshot from node %d: length or checksum mismatch: %w", from, errBadSnapshot)
			}
			break
		}
		if f.Data[0] != snapFrameData || uint64(len(data))+uint64(len(f.Data)-1) > maxSnapshotBytes {
			return errBadSnapshot
		}
		_, _ = crc.Write(f.Data[1:])
		data = append(data, f.Data[1:]...)
	}
	msg.Snapshot.Data = data
	h := t.getHandler()
	if h == nil {
		return errors.New("rpc: no raft handler yet")
	}
	if err := h.Step(partitionID, msg); err != nil {
		return err
	}
	return stream.SendMsg(&Frame{Data: []byte{1}})
}

// encodeSnapshotHeader: 'H' | from uvarint | HLC (12 bytes) | partition
// uvarint | the MsgSnap without data.
func encodeSnapshotHeader(from uint64, ts hlc.Timestamp, partitionID uint64, msg []byte) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+hlc.EncodedLen+len(msg))
	b = append(b, snapFrameHeader)
	b = binary.AppendUvarint(b, from)
	b = ts.AppendEncode(b)
	b = binary.AppendUvarint(b, partitionID)
	return append(b, msg...)
}

func decodeSnapshotHeader(b []byte) (from uint64, ts hlc.Timestamp, partitionID uint64, msg []byte, err error) {
	if len(b) < 1 || b[0] != snapFrameHeader {
		return 0, ts, 0, nil, errBadSnapshot
	}
	b = b[1:]
	from, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, ts, 0, nil, errBadSnapshot
	}
	b = b[n:]
	if ts, err = hlc.Decode(b); err != nil {
		return 0, ts, 0, nil, errBadSnapshot
	}
	b = b[hlc.EncodedLen:]
	partitionID, n = binary.Uvarint(b)
	if n <= 0 {
		return 0, ts, 0, nil, errBadSnapshot
	}
	return from, ts, partitionID, b[n:], nil
}

// encodeSnapshotTrailer: 'T' | data length uvarint | CRC-32C (4 bytes,
// big endian).
func encodeSnapshotTrailer(total uint64, sum uint32) []byte {
	b := binary.AppendUvarint([]byte{snapFrameTrailer}, total)
	return binary.BigEndian.AppendUint32(b, sum)
}

func decodeSnapshotTrailer(b []byte) (total uint64, sum uint32, err error) {
	if len(b) < 1 || b[0] != snapFrameTrailer {
		return 0, 0, errBadSnapshot
	}
	total, n := binary.Uvarint(b[1:])
	if n <= 0 || len(b) != 1+n+4 {
		return 0, 0, errBadSnapshot
	}
	return total, binary.BigEndian.Uint32(b[1+n:]), nil
}
