package raftlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

func openEngine(t testing.TB) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Options{Dir: t.TempDir(), InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

func bootstrapped(t testing.TB, eng *storage.Engine, partitionID uint64, opts Options) *Log {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := Bootstrap(eng, b, partitionID, []uint64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	l, err := Open(eng, partitionID, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ent(index, term uint64, data string) *raftpb.Entry {
	return &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum(), Data: []byte(data)}
}

// stage runs fn on a fresh batch and commits it.
func stage(t testing.TB, eng *storage.Engine, fn func(storage.Writer) error) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
}

// model is the obviously-correct log: a map from index to entry plus bounds.
type model struct {
	truncated IndexTerm
	last      uint64
	ents      map[uint64]*raftpb.Entry
}

func (m *model) check(t *testing.T, l *Log) {
	t.Helper()
	if l.FirstIndex() != m.truncated.Index+1 || l.LastIndex() != m.last {
		t.Fatalf("bounds [%d,%d], want [%d,%d]", l.FirstIndex(), l.LastIndex(), m.truncated.Index+1, m.last)
	}
	if term, err := l.Term(m.truncated.Index); err != nil || term != m.truncated.Term {
		t.Fatalf("Term(truncated %d) = %d, %v; want %d", m.truncated.Index, term, err, m.truncated.Term)
	}
	if m.truncated.Index > 0 {
		if _, err := l.Term(m.truncated.Index - 1); !errors.Is(err, ErrCompacted) {
			t.Fatalf("Term below truncation: %v", err)
		}
		if _, err := l.Entries(m.truncated.Index, m.last+1, 1<<30); !errors.Is(err, ErrCompacted) {
			t.Fatalf("Entries below first index: %v", err)
		}
	}
	if _, err := l.Term(m.last + 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Term past last: %v", err)
	}
	if _, err := l.Entries(m.truncated.Index+1, m.last+2, 1<<30); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Entries past last: %v", err)
	}
	got, err := l.Entries(m.truncated.Index+1, m.last+1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(got)) != m.last-m.truncated.Index {
		t.Fatalf("Entries returned %d, want %d", len(got), m.last-m.truncated.Index)
	}
	for i, e := range got {
		want := m.ents[m.truncated.Index+1+uint64(i)]
		if e.GetIndex() != want.GetIndex() || e.GetTerm() != want.GetTerm() || string(e.GetData()) != string(want.GetData()) {
			t.Fatalf("entry %d = %v, want %v", m.truncated.Index+1+uint64(i), e, want)
		}
		if term, err := l.Term(e.GetIndex()); err != nil || term != want.GetTerm() {
			t.Fatalf("Term(%d) = %d, %v", e.GetIndex(), term, err)
		}
	}
	// A size limit returns a non-empty prefix.
	if m.last > m.truncated.Index {
		got, err := l.Entries(m.truncated.Index+1, m.last+1, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Entries with tiny maxSize = %d entries, %v", len(got), err)
		}
	}
}

// TestLogAgainstModel applies random appends (with tail overwrites),
// truncations and snapshot resets, checking the Log, and a Log reopened
// from the engine, against the model after every step. A tiny cache makes
// both the cached and the engine read paths run.
func TestLogAgainstModel(t *testing.T) {
	for _, cacheEntries := range []int{1, 3, 1000} {
		t.Run(fmt.Sprintf("cache=%d", cacheEntries), func(t *testing.T) {
			eng := openEngine(t)
			opts := Options{CacheEntries: cacheEntries}
			l := bootstrapped(t, eng, 7, opts)
			m := &model{ents: map[uint64]*raftpb.Entry{}}
			rng := rand.New(rand.NewPCG(1, uint64(cacheEntries)))
			term := uint64(1)
			for step := range 400 {
				switch op := rng.IntN(10); {
				case op < 6: // append, possibly overwriting a tail
					from := m.last + 1
					if m.last > m.truncated.Index && rng.IntN(3) == 0 {
						from = m.truncated.Index + 1 + rng.Uint64N(m.last-m.truncated.Index)
						term++
					}
					n := 1 + rng.IntN(5)
					var ents []*raftpb.Entry
					for i := range n {
						e := ent(from+uint64(i), term, fmt.Sprintf("s%d-%d", step, i))
						ents = append(ents, e)
						m.ents[e.GetIndex()] = e
					}
					for i := from + uint64(n); i <= m.last; i++ {
						delete(m.ents, i)
					}
					m.last = from + uint64(n) - 1
					stage(t, eng, func(w storage.Writer) error { return l.Append(w, ents) })
				case op < 9: // truncate
					if m.last == m.truncated.Index {
						continue
					}
					to := m.truncated.Index + 1 + rng.Uint64N(m.last-m.truncated.Index)
					m.truncated = IndexTerm{Index: to, Term: m.ents[to].GetTerm()}
					stage(t, eng, func(w storage.Writer) error { return l.TruncatePrefix(w, to) })
				default: // snapshot
					term++
					at := m.last + uint64(rng.IntN(3))
					m.truncated = IndexTerm{Index: at, Term: term}
					m.last = at
					stage(t, eng, func(w storage.Writer) error { return l.ResetToSnapshot(w, at, term, nil) })
				}
				m.check(t, l)
				if step%50 == 0 {
					reopened, err := Open(eng, 7, opts)
					if err != nil {
						t.Fatal(err)
					}
					m.check(t, reopened)
					if reopened.Bytes() != l.Bytes() {
						t.Fatalf("reopened Bytes %d, live %d", reopened.Bytes(), l.Bytes())
					}
				}
			}
		})
	}
}

func TestHardStateAndAppliedStateRoundTrip(t *testing.T) {
	eng := openEngine(t)
	l := bootstrapped(t, eng, 3, Options{})
	if cs := l.ConfState(); len(cs.GetVoters()) != 3 {
		t.Fatalf("conf state %v", cs)
	}
	hs := &raftpb.HardState{Term: new(uint64(5)), Vote: new(uint64(2)), Commit: new(uint64(9))}
	stage(t, eng, func(w storage.Writer) error {
		if err := l.Append(w, []*raftpb.Entry{ent(1, 5, "a"), ent(2, 5, "")}); err != nil {
			return err
		}
		if err := l.SetHardState(w, hs); err != nil {
			return err
		}
		return WriteAppliedState(w, 3, AppliedState{Index: 2, Term: 5})
	})
	l2, err := Open(eng, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := l2.HardState()
	if got.GetTerm() != 5 || got.GetVote() != 2 || got.GetCommit() != 9 {
		t.Fatalf("hard state %v", got)
	}
	if as, err := ReadAppliedState(eng, 3); err != nil || as != (AppliedState{Index: 2, Term: 5}) {
		t.Fatalf("applied state %v %v", as, err)
	}
	if err := Bootstrap(eng, eng.NewBatch(), 3, []uint64{1}); !errors.Is(err, ErrAlreadyBootstrapped) {
		t.Fatalf("second bootstrap: %v", err)
	}
	ids, err := ListPartitions(eng)
	if err != nil || len(ids) != 1 || ids[0] != 3 {
		t.Fatalf("ListPartitions = %v %v", ids, err)
	}
}

func TestAppendRejectsGapsAndTruncatedIndexes(t *testing.T) {
	eng := openEngine(t)
	l := bootstrapped(t, eng, 1, Options{})
	b := eng.NewBatch()
	defer b.Close()
	if err := l.Append(b, []*raftpb.Entry{ent(2, 1, "gap")}); err == nil {
		t.Fatal("append with a gap accepted")
	}
	if err := l.Append(b, []*raftpb.Entry{ent(1, 1, "a"), ent(3, 1, "c")}); err == nil {
		t.Fatal("non-consecutive append accepted")
	}
}

func TestOpenDetectsGap(t *testing.T) {
	eng := openEngine(t)
	l := bootstrapped(t, eng, 1, Options{})
	stage(t, eng, func(w storage.Writer) error {
		return l.Append(w, []*raftpb.Entry{ent(1, 1, "a"), ent(2, 1, "b"), ent(3, 1, "c")})
	})
	stage(t, eng, func(w storage.Writer) error { return w.Delete(EntryKey(1, 2)) })
	_, err := Open(eng, 1, Options{})
	var corrupt *kvpb.CorruptionError
	if !errors.As(err, &corrupt) {
		t.Fatalf("Open over a gap: %v", err)
	}
}

func BenchmarkAppendCommit(b *testing.B) {
	eng := openEngine(b)
	l := bootstrapped(b, eng, 1, Options{})
	data := make([]byte, 128)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		batch := eng.NewBatch()
		e := &raftpb.Entry{Index: new(uint64(i + 1)), Term: new(uint64(1)), Data: data}
		if err := l.Append(batch, []*raftpb.Entry{e}); err != nil {
			b.Fatal(err)
		}
		if err := batch.Commit(false); err != nil {
			b.Fatal(err)
		}
		_ = batch.Close()
		if l.Len() > 10000 {
			tb := eng.NewBatch()
			_ = l.TruncatePrefix(tb, l.LastIndex()-100)
			_ = tb.Commit(false)
			_ = tb.Close()
		}
	}
}

func BenchmarkEntriesCached(b *testing.B) {
	eng := openEngine(b)
	l := bootstrapped(b, eng, 1, Options{})
	var ents []*raftpb.Entry
	for i := range 1000 {
		ents = append(ents, ent(uint64(i+1), 1, "payload"))
	}
	stage(b, eng, func(w storage.Writer) error { return l.Append(w, ents) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Entries(900, 1001, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
