package rpc

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"slices"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// snapshotEngine is an in-memory engine whose partition 1 holds rows keys
// of about 1 KiB each.
func snapshotEngine(t *testing.T, rows int) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	start, _ := storage.DataSpan(1)
	b := eng.NewBatch()
	defer b.Close()
	for i := range rows {
		key := append(slices.Clone(start), fmt.Sprintf("k%06d", i)...)
		if err := b.Set(key, bytes.Repeat([]byte{byte(i)}, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	return eng
}

func snapshotData(t *testing.T, eng *storage.Engine) []byte {
	t.Helper()
	o := replica.NewOutgoingSnapshot(1, eng.NewSnapshot())
	defer o.Close()
	var data []byte
	if err := o.Stream(64<<10, func(chunk []byte) error { data = append(data, chunk...); return nil }); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSnapshotStreamsBesideOtherPartitions: a snapshot of about 3 MiB
// (three chunks) travels on its own stream; while it is held after its
// first chunk, another partition's message is delivered; then it arrives
// whole (same length and CRC as the sender's data).
func TestSnapshotStreamsBesideOtherPartitions(t *testing.T) {
	eng := snapshotEngine(t, 3000)
	want := snapshotData(t, eng)
	if len(want) <= 2*snapshotChunkBytes {
		t.Fatalf("snapshot of %d bytes does not span three chunks", len(want))
	}
	nodes := newTestNodes(t, 2, nil)
	blocked, release := make(chan struct{}), make(chan struct{})
	first := true
	nodes[0].transport.onSnapshotChunk = func(partitionID, total uint64) {
		if first {
			first = false
			close(blocked)
			<-release
		}
	}
	snap := replica.Message{PartitionID: 1, Snap: replica.NewOutgoingSnapshot(1, eng.NewSnapshot()), Msg: &raftpb.Message{
		Type: raftpb.MsgSnap.Enum(), To: proto.Uint64(2), From: proto.Uint64(1), Index: proto.Uint64(1000),
		Snapshot: &raftpb.Snapshot{Data: []byte{2, 1}, Metadata: &raftpb.SnapshotMetadata{Index: proto.Uint64(1000), Term: proto.Uint64(3)}},
	}}
	nodes[0].transport.Send([]replica.Message{snap})
	<-blocked

	other := msg(2, 7)
	other.PartitionID = 2
	nodes[0].transport.Send([]replica.Message{other})
	h := nodes[1].handler
	h.waitFor(t, "the other partition's message while the snapshot is held", func() bool { return slices.Contains(h.got, 7) })
	h.mu.Lock()
	_, early := h.snaps[1]
	h.mu.Unlock()
	if early {
		t.Fatal("the snapshot arrived before its last chunks were sent")
	}
	close(release)
	h.waitFor(t, "the snapshot", func() bool { return h.snaps[1] != nil })
	h.mu.Lock()
	got := h.snaps[1]
	h.mu.Unlock()
	if len(got) != len(want) || crc32.Checksum(got, crcTable) != crc32.Checksum(want, crcTable) {
		t.Fatalf("snapshot data: %d bytes crc %x, want %d bytes crc %x", len(got), crc32.Checksum(got, crcTable), len(want), crc32.Checksum(want, crcTable))
	}
}

// Snapshot stream frames: round trip, and no panic on any input.
func FuzzSnapshotFrames(f *testing.F) {
	f.Add(encodeSnapshotHeader(3, hlc.Timestamp{WallTime: 5, Logical: 1}, 7, []byte("msg")))
	f.Add(encodeSnapshotTrailer(1<<20, 0xdeadbeef))
	f.Add([]byte{snapFrameHeader, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if from, ts, pid, msg, err := decodeSnapshotHeader(b); err == nil {
			if again := encodeSnapshotHeader(from, ts, pid, msg); len(again) > len(b) {
				t.Fatalf("header re-encodes longer: %x -> %x", b, again)
			}
		}
		if total, sum, err := decodeSnapshotTrailer(b); err == nil {
			if again := encodeSnapshotTrailer(total, sum); len(again) > len(b) {
				t.Fatalf("trailer re-encodes longer: %x -> %x", b, again)
			}
		}
	})
}
