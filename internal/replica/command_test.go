package replica

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/raftlog"
	"github.com/camusdb/camusdb-go/internal/storage"
)

func TestCommandRoundTrip(t *testing.T) {
	start, end := storage.DataSpan(3)
	cmd := Command{EvalTerm: 7, Writes: []Write{
		{Key: dataKey(3, "a"), Value: []byte("1")},
		{Key: dataKey(3, "b"), Delete: true},
		{Key: dataKey(3, "c"), Value: nil},
	}}
	data := encodeCommand(commandHeader{nodeID: 2, seq: 99}, &cmd)
	h, rest, err := decodeHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.nodeID != 2 || h.seq != 99 || h.evalTerm != 7 || h.writes != 3 {
		t.Fatalf("header %+v", h)
	}
	var got []Write
	err = forEachWrite(h, rest, start, end, func(op byte, key, value []byte) error {
		got = append(got, Write{Key: bytes.Clone(key), Value: bytes.Clone(value), Delete: op == opDelete})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !bytes.Equal(got[0].Key, cmd.Writes[0].Key) || string(got[0].Value) != "1" ||
		!got[1].Delete || got[2].Delete || len(got[2].Value) != 0 {
		t.Fatalf("decoded %+v", got)
	}
	// Outside the span: rejected before any write is handed out.
	other, _ := storage.DataSpan(4)
	calls := 0
	err = forEachWrite(h, rest, other, storage.PrefixEnd(other), func(byte, []byte, []byte) error { calls++; return nil })
	if !errors.Is(err, ErrKeyOutsidePartition) || calls != 0 {
		t.Fatalf("out of span: %v after %d writes", err, calls)
	}
}

// A range deletion round-trips, and one reaching past the partition's
// span (or empty) is refused with the rest of its command.
func TestCommandRangeDeletion(t *testing.T) {
	start, end := storage.DataSpan(3)
	cmd := Command{Writes: []Write{
		{Key: dataKey(3, "a"), Value: []byte("1")},
		{Key: dataKey(3, "b"), End: dataKey(3, "m")},
		{Key: dataKey(3, "m"), End: end}, // up to the span's end is allowed
	}}
	if err := checkSpan(&cmd, start, end); err != nil {
		t.Fatal(err)
	}
	h, rest, err := decodeHeader(encodeCommand(commandHeader{nodeID: 1, seq: 1}, &cmd))
	if err != nil {
		t.Fatal(err)
	}
	var ops []byte
	var ends [][]byte
	err = forEachWrite(h, rest, start, end, func(op byte, key, value []byte) error {
		ops = append(ops, op)
		ends = append(ends, bytes.Clone(value))
		return nil
	})
	if err != nil || string(ops) != string([]byte{opSet, opDeleteRange, opDeleteRange}) ||
		!bytes.Equal(ends[1], dataKey(3, "m")) || !bytes.Equal(ends[2], end) {
		t.Fatalf("decoded ops %v ends %q: %v", ops, ends, err)
	}
	for _, bad := range []Write{
		{Key: dataKey(3, "b"), End: storage.PrefixEnd(end)}, // past the span
		{Key: dataKey(3, "b"), End: dataKey(3, "b")},        // empty
		{Key: dataKey(3, "b"), End: dataKey(3, "a")},        // backwards
	} {
		c := Command{Writes: []Write{{Key: dataKey(3, "a"), Value: []byte("1")}, bad}}
		if err := checkSpan(&c, start, end); !errors.Is(err, ErrKeyOutsidePartition) {
			t.Errorf("checkSpan(%q..%q): %v", bad.Key, bad.End, err)
		}
		h, rest, _ := decodeHeader(encodeCommand(commandHeader{nodeID: 1, seq: 1}, &c))
		calls := 0
		err := forEachWrite(h, rest, start, end, func(byte, []byte, []byte) error { calls++; return nil })
		if !errors.Is(err, ErrKeyOutsidePartition) || calls != 0 {
			t.Errorf("forEachWrite(%q..%q): %v after %d writes", bad.Key, bad.End, err, calls)
		}
	}
}

// An applied range deletion removes every key of its range and nothing
// else.
func TestApplyRangeDeletion(t *testing.T) {
	s, eng := newIdleStore(t)
	p := s.partitions[1]
	var sets []Write
	for _, k := range []string{"a", "b", "c", "d"} {
		sets = append(sets, Write{Key: dataKey(1, k), Value: []byte(k)})
	}
	clear := Command{Writes: []Write{{Key: dataKey(1, "b"), End: dataKey(1, "d")}}}
	applyAndCommit(t, eng, p,
		entry(1, 1, encodeCommand(commandHeader{nodeID: 9, seq: 1}, &Command{Writes: sets})),
		entry(2, 1, encodeCommand(commandHeader{nodeID: 9, seq: 2}, &clear)))
	for k, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
		if _, found, _ := eng.Get(dataKey(1, k)); found != want {
			t.Errorf("key %s present=%v after clearing [b, d)", k, found)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	cmd := Command{EvalTerm: 1, Writes: []Write{{Key: dataKey(1, "k"), Value: []byte("v")}, {Key: dataKey(1, "d"), Delete: true},
		{Key: dataKey(1, "r"), End: dataKey(1, "s")}}}
	f.Add(encodeCommand(commandHeader{nodeID: 1, seq: 1}, &cmd))
	f.Add([]byte{commandVersion, 1, 1, 0, 200})
	start, end := storage.DataSpan(1)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, rest, err := decodeHeader(data)
		if err != nil {
			return
		}
		_ = forEachWrite(h, rest, start, end, func(op byte, key, value []byte) error {
			if bytes.Compare(key, start) < 0 || bytes.Compare(key, end) >= 0 {
				t.Fatalf("key %x outside the span handed out", key)
			}
			if op == opDeleteRange && (bytes.Compare(value, key) <= 0 || bytes.Compare(value, end) > 0) {
				t.Fatalf("range [%x, %x) outside the span handed out", key, value)
			}
			return nil
		})
	})
}

func FuzzSnapshotData(f *testing.F) {
	f.Add([]byte{snapshotVersion, 1, 'a', 1, 'b'})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = forEachSnapshotKV(data, nil)
	})
}

// newIdleStore returns a store that is never started: its partitions are
// driven by hand.
func newIdleStore(t *testing.T) (*Store, *storage.Engine) {
	eng := openTestEngine(t, storage.Options{InMemory: true})
	t.Cleanup(func() { _ = eng.Close() })
	s, err := NewStore(Config{NodeID: 1, Engine: eng, Partitions: 1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, eng
}

func entry(index, term uint64, data []byte) *raftpb.Entry {
	return &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum(), Data: data}
}

// applyAndCommit applies entries as the driver does, and returns the
// proposal results.
func applyAndCommit(t *testing.T, eng *storage.Engine, p *partition, ents ...*raftpb.Entry) []completion {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	done, err := p.applyEntries(b, ents)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	return done
}

func TestApplyTermMismatchIsNoop(t *testing.T) {
	s, eng := newIdleStore(t)
	p := s.partitions[1]
	prop := &proposal{seq: 5, done: make(chan error, 1), index: 1, term: 3}
	p.inflight[5] = prop
	cmd := Command{EvalTerm: 2, Writes: []Write{{Key: dataKey(1, "k"), Value: []byte("v")}}}
	done := applyAndCommit(t, eng, p, entry(1, 3, encodeCommand(commandHeader{nodeID: 1, seq: 5}, &cmd)))
	var retry *kvpb.RetryError
	if len(done) != 1 || done[0].prop != prop || !errors.As(done[0].err, &retry) {
		t.Fatalf("completions %+v", done)
	}
	if _, found, _ := eng.Get(dataKey(1, "k")); found {
		t.Fatal("command with a stale eval term was applied")
	}
	if as, _ := raftlog.ReadAppliedState(eng, 1); as != (raftlog.AppliedState{Index: 1, Term: 3}) {
		t.Fatalf("applied state %+v", as)
	}
}

func TestApplyIsIdempotentByIndex(t *testing.T) {
	s, eng := newIdleStore(t)
	p := s.partitions[1]
	set := Command{Writes: []Write{{Key: dataKey(1, "k"), Value: []byte("first")}}}
	overwrite := Command{Writes: []Write{{Key: dataKey(1, "k"), Value: []byte("second")}}}
	e1 := entry(1, 1, encodeCommand(commandHeader{nodeID: 9, seq: 1}, &set))
	e2 := entry(2, 1, encodeCommand(commandHeader{nodeID: 9, seq: 2}, &overwrite))
	applyAndCommit(t, eng, p, e1, e2)
	// Re-delivering already applied entries changes nothing.
	applyAndCommit(t, eng, p, e1)
	if got := mustGet(t, eng, dataKey(1, "k")); got != "second" {
		t.Fatalf("re-applying entry 1 produced %q", got)
	}
	// A gap is a broken invariant, reported as an error.
	b := eng.NewBatch()
	defer b.Close()
	if _, err := p.applyEntries(b, []*raftpb.Entry{entry(5, 1, nil)}); err == nil {
		t.Fatal("applying past a gap succeeded")
	}
}

func TestApplyRejectsOutOfSpanAndGarbage(t *testing.T) {
	s, eng := newIdleStore(t)
	p := s.partitions[1]
	// Built by hand: Propose would refuse it.
	bad := Command{Writes: []Write{{Key: dataKey(1, "ok"), Value: []byte("v")}, {Key: dataKey(2, "x"), Value: []byte("v")}}}
	p.inflight[1] = &proposal{seq: 1, done: make(chan error, 1), index: 1}
	done := applyAndCommit(t, eng, p,
		entry(1, 1, encodeCommand(commandHeader{nodeID: 1, seq: 1}, &bad)),
		entry(2, 1, []byte{0xff, 0x00}),
	)
	if len(done) != 1 || !errors.Is(done[0].err, ErrKeyOutsidePartition) {
		t.Fatalf("completions %+v", done)
	}
	if len(dumpSpan(t, eng, 1)) != 0 || len(dumpSpan(t, eng, 2)) != 0 {
		t.Fatal("a rejected command was partially applied")
	}
	if p.applied.Index != 2 {
		t.Fatalf("applied index %d", p.applied.Index)
	}
}

func TestStepRejectsBadMessages(t *testing.T) {
	s, _ := newIdleStore(t)
	if err := s.Step(1, &raftpb.Message{To: new(uint64(2)), Type: raftpb.MsgApp.Enum()}); err == nil {
		t.Fatal("misaddressed message accepted")
	}
	if err := s.Step(9, &raftpb.Message{To: new(uint64(1)), Type: raftpb.MsgApp.Enum()}); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("unknown partition: %v", err)
	}
	if err := s.Step(1, &raftpb.Message{To: new(uint64(1)), Type: raftpb.MsgHup.Enum()}); err == nil {
		t.Fatal("local message accepted from the network")
	}
	snap := &raftpb.Snapshot{Data: []byte{9}, Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(5))}}
	if err := s.Step(1, &raftpb.Message{To: new(uint64(1)), Type: raftpb.MsgSnap.Enum(), Snapshot: snap}); err == nil {
		t.Fatal("corrupt snapshot accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitReady(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitReady on an idle store: %v", err)
	}
}
