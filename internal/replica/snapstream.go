package replica

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// Streamed snapshots. When raft asks for a snapshot (raftStorage.Snapshot,
// on the driver goroutine), the store only takes a Pebble snapshot of the
// engine and reads the applied index from it; the snapshot raft sends
// carries a reference to it (version 2 data), and the outgoing Message
// carries the OutgoingSnapshot itself. The transport reads the data
// (version 1 format, see snapshot.go) from the Pebble snapshot in chunks
// on its own goroutine and delivers the message with the data in place,
// so building and sending a large snapshot never holds up the driver or
// the other partitions' messages.

// snapshotRefVersion marks snapshot data that is a reference to an
// OutgoingSnapshot of the sending store: uvarint id follows. It never
// leaves the node.
const snapshotRefVersion byte = 2

// unclaimedSnapshotTTL: a snapshot raft built but never sent is released
// after this long.
const unclaimedSnapshotTTL = time.Minute

// errSnapshotClosed is returned by Stream after Close (or Store.Stop).
var errSnapshotClosed = errors.New("replica: snapshot closed")

// OutgoingSnapshot is a partition's data as of one Pebble snapshot, on
// its way to a follower. Stream reads it; Close releases it (the store
// closes what is still open when it stops).
type OutgoingSnapshot struct {
	PartitionID uint64
	id          uint64
	created     time.Time
	registry    *snapshotRegistry

	mu      sync.Mutex
	view    storage.Snapshot // nil once closed
	it      storage.Iterator
	claimed bool
}

// Stream calls fn with consecutive pieces of the snapshot's data, each of
// about chunkBytes (the last may be shorter); a piece is valid only during
// the call. The pieces concatenated are the data a follower applies.
// Stream may be called once.
func (o *OutgoingSnapshot) Stream(chunkBytes int, fn func(chunk []byte) error) error {
	start, end := storage.DataSpan(o.PartitionID)
	buf := make([]byte, 0, chunkBytes+1024)
	buf = append(buf, snapshotVersion)
	first := true
	for {
		done, err := o.fill(&buf, start, end, chunkBytes, first)
		if err != nil {
			return err
		}
		first = false
		if len(buf) > 0 || done {
			if err := fn(buf); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		buf = buf[:0]
	}
}

// fill appends entries to buf until it holds chunkBytes; done reports the
// end of the span.
func (o *OutgoingSnapshot) fill(buf *[]byte, start, end []byte, chunkBytes int, first bool) (done bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.view == nil {
		return false, errSnapshotClosed
	}
	var ok bool
	if first {
		if o.it, err = o.view.NewIter(start, end); err != nil {
			return false, err
		}
		ok = o.it.First()
	} else {
		ok = o.it.Next()
	}
	b := *buf
	for ; ok; ok = o.it.Next() {
		suffix := o.it.Key()[len(start):]
		b = binary.AppendUvarint(b, uint64(len(suffix)))
		b = append(b, suffix...)
		b = binary.AppendUvarint(b, uint64(len(o.it.Value())))
		b = append(b, o.it.Value()...)
		if len(b) >= chunkBytes {
			*buf = b
			return false, o.it.Error()
		}
	}
	*buf = b
	return true, o.it.Error()
}

// Close releases the Pebble snapshot; a Stream in progress fails at its
// next chunk. Idempotent.
func (o *OutgoingSnapshot) Close() {
	o.mu.Lock()
	if o.view != nil {
		if o.it != nil {
			_ = o.it.Close()
			o.it = nil
		}
		_ = o.view.Close()
		o.view = nil
	}
	o.mu.Unlock()
	if o.registry != nil {
		o.registry.forget(o)
	}
}

// NewOutgoingSnapshot returns an outgoing snapshot of the partition's
// data span in view (taking ownership of it), outside any store: for
// transport tests.
func NewOutgoingSnapshot(partitionID uint64, view storage.Snapshot) *OutgoingSnapshot {
	return &OutgoingSnapshot{PartitionID: partitionID, created: time.Now(), view: view}
}

// Materialize returns a copy of m.Msg with the snapshot data in place and
// closes m.Snap: what a transport that delivers in-process (tests) does
// instead of streaming. Without Snap it returns a copy of m.Msg.
func (m Message) Materialize() (*raftpb.Message, error) {
	msg := proto.CloneOf(m.Msg)
	if m.Snap == nil {
		return msg, nil
	}
	defer m.Snap.Close()
	var data []byte
	if err := m.Snap.Stream(1<<20, func(chunk []byte) error {
		data = append(data, chunk...)
		return nil
	}); err != nil {
		return nil, err
	}
	msg.Snapshot.Data = data
	return msg, nil
}

// snapshotRegistry holds a store's open outgoing snapshots.
type snapshotRegistry struct {
	mu     sync.Mutex
	nextID uint64
	open   map[uint64]*OutgoingSnapshot
	closed bool
}

// add registers a snapshot over view (taking ownership of it).
func (r *snapshotRegistry) add(partitionID uint64, view storage.Snapshot) (*OutgoingSnapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = view.Close()
		return nil, ErrStopped
	}
	if r.open == nil {
		r.open = map[uint64]*OutgoingSnapshot{}
	}
	r.nextID++
	o := &OutgoingSnapshot{PartitionID: partitionID, id: r.nextID, created: time.Now(), registry: r, view: view}
	r.open[o.id] = o
	return o, nil
}

// claim returns the snapshot a reference names, once, and releases
// snapshots built but never claimed for too long.
func (r *snapshotRegistry) claim(data []byte) *OutgoingSnapshot {
	if len(data) < 2 || data[0] != snapshotRefVersion {
		return nil
	}
	id, n := binary.Uvarint(data[1:])
	if n <= 0 {
		return nil
	}
	r.mu.Lock()
	o := r.open[id]
	var stale []*OutgoingSnapshot
	for _, s := range r.open {
		if s != o && time.Since(s.created) > unclaimedSnapshotTTL {
			s.mu.Lock()
			if !s.claimed {
				stale = append(stale, s)
			}
			s.mu.Unlock()
		}
	}
	r.mu.Unlock()
	for _, s := range stale {
		s.Close()
	}
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.claimed {
		return nil
	}
	o.claimed = true
	return o
}

func (r *snapshotRegistry) forget(o *OutgoingSnapshot) {
	r.mu.Lock()
	delete(r.open, o.id)
	r.mu.Unlock()
}

// closeAll releases every open snapshot and refuses new ones (Store.Stop).
func (r *snapshotRegistry) closeAll() {
	r.mu.Lock()
	r.closed = true
	all := make([]*OutgoingSnapshot, 0, len(r.open))
	for _, o := range r.open {
		all = append(all, o)
	}
	r.mu.Unlock()
	for _, o := range all {
		o.Close()
	}
}

func snapshotRef(id uint64) []byte {
	return binary.AppendUvarint([]byte{snapshotRefVersion}, id)
}
