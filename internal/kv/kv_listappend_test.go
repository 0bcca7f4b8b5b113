package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// step is one operation of a scripted transaction; interleave runs the steps
// of two transactions in a random order that keeps each one's own order.
type step func() error

func interleave(rng *rand.Rand, a, b []step) error {
	for len(a) > 0 || len(b) > 0 {
		pickA := len(b) == 0 || (len(a) > 0 && rng.Intn(2) == 0)
		var s step
		if pickA {
			s, a = a[0], a[1:]
		} else {
			s, b = b[0], b[1:]
		}
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// pairTxn is one side of an anomaly scenario: begin, reads that decide
// whether to write, the write, and the commit. Its outcome is recorded.
type pairTxn struct {
	txn       *kv.Txn
	wantWrite bool // the reads allowed the write
	committed bool // committed with its write
	conflict  bool // the commit failed with a conflict
}

func (p *pairTxn) steps(ctx context.Context, db func() *kv.DB, reads []func(*kv.Txn) (bool, error), write func(*kv.Txn) error) []step {
	s := []step{func() (err error) {
		p.txn, err = db().Begin(ctx)
		return err
	}}
	p.wantWrite = true
	for _, r := range reads {
		s = append(s, func() error {
			ok, err := r(p.txn)
			p.wantWrite = p.wantWrite && ok
			return err
		})
	}
	s = append(s, func() error {
		if !p.wantWrite {
			return nil
		}
		return write(p.txn)
	}, func() error {
		if !p.wantWrite {
			return p.txn.Rollback(ctx)
		}
		err := p.txn.Commit(ctx)
		var ce *kvpb.ConflictError
		switch {
		case err == nil:
			p.committed = true
		case errors.As(err, &ce):
			p.conflict = true
		default:
			return err
		}
		return nil
	})
	return s
}

// checkRaces fails a scenario whose interleavings rarely overlapped: the
// rounds where both transactions read before either committed are the
// ones that test serializability.
func checkRaces(t *testing.T, races, rounds int) {
	if t.Failed() {
		return
	}
	t.Logf("%d of %d rounds overlapped", races, rounds)
	if races < rounds/5 {
		t.Errorf("only %d of %d rounds had both transactions read before either committed", races, rounds)
	}
}

// TestWriteSkewOnCall: two doctors are on call; each checks that both are
// and takes itself off. Over randomized interleavings of begins, reads,
// writes and commits exactly one goes off call — whatever the placement:
// both rows in one partition (1PC), in two (2PC with a read-only
// participant that must refresh).
func TestWriteSkewOnCall(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	db := n.CurrentDB
	rounds := scale(100, 1000)
	for _, placement := range []string{"same-partition", "two-partitions"} {
		t.Run(placement, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(placement))))
			p1 := kvtest.TablesOn(1, 4, rounds)
			p2 := kvtest.TablesOn(2, 4, rounds)
			races := 0
			defer func() { checkRaces(t, races, rounds) }()
			for round := 0; round < rounds; round++ {
				alice, bob := kvtest.Key(p1[round], "alice"), kvtest.Key(p1[round], "bob")
				if placement == "two-partitions" {
					bob = kvtest.Key(p2[round], "bob")
				}
				if err := runTxn(ctx, n, func(txn *kv.Txn) error {
					_ = txn.Put(alice, []byte("on"))
					return txn.Put(bob, []byte("on"))
				}); err != nil {
					t.Fatal(err)
				}
				isOn := func(k []byte) func(*kv.Txn) (bool, error) {
					return func(txn *kv.Txn) (bool, error) {
						v, _, err := txn.Get(ctx, k)
						return string(v) == "on", err
					}
				}
				goOff := func(k []byte) func(*kv.Txn) error {
					return func(txn *kv.Txn) error { return txn.Put(k, []byte("off")) }
				}
				// Each reads both rows, in a random order.
				readsA := []func(*kv.Txn) (bool, error){isOn(alice), isOn(bob)}
				readsB := []func(*kv.Txn) (bool, error){isOn(bob), isOn(alice)}
				rng.Shuffle(2, func(i, j int) { readsA[i], readsA[j] = readsA[j], readsA[i] })
				var a, b pairTxn
				if err := interleave(rng, a.steps(ctx, db, readsA, goOff(alice)), b.steps(ctx, db, readsB, goOff(bob))); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if a.committed == b.committed {
					t.Fatalf("round %d: alice committed=%v bob committed=%v (want exactly one)", round, a.committed, b.committed)
				}
				if a.wantWrite && b.wantWrite {
					races++
				}
				var on int
				if err := runTxn(ctx, n, func(txn *kv.Txn) error {
					on = 0
					for _, k := range [][]byte{alice, bob} {
						ok, err := isOn(k)(txn)
						if ok {
							on++
						}
						if err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if on != 1 {
					t.Fatalf("round %d: %d doctors on call", round, on)
				}
			}
		})
	}
}

// TestPhantomCountThenInsert: a room holds one booking; each transaction
// counts the bookings with a scan and inserts its own (a new key, so only
// the scanned span can conflict). Over randomized interleavings exactly
// one booking is made. In the two-partition placement each transaction
// also writes a log row elsewhere, so the commits are 2PC.
func TestPhantomCountThenInsert(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	db := n.CurrentDB
	rounds := scale(100, 1000)
	allRooms := kvtest.TablesOn(3, 4, 2*rounds)
	for i, placement := range []string{"same-partition", "two-partitions"} {
		t.Run(placement, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(placement)) + 7))
			rooms := allRooms[i*rounds:] // fresh, empty rooms
			logs := kvtest.TablesOn(4, 4, rounds)
			races := 0
			defer func() { checkRaces(t, races, rounds) }()
			for round := 0; round < rounds; round++ {
				room := rooms[round]
				count := func(txn *kv.Txn) (int, error) {
					c := 0
					it := txn.Scan(ctx, kvtest.Key(room, ""), nil, rng.Intn(2) == 0)
					for it.Next(ctx) {
						c++
					}
					return c, it.Err()
				}
				free := func(txn *kv.Txn) (bool, error) {
					c, err := count(txn)
					return c == 0, err
				}
				book := func(who string) func(*kv.Txn) error {
					return func(txn *kv.Txn) error {
						if placement == "two-partitions" {
							if err := txn.Put(kvtest.Key(logs[round], who), []byte("booked")); err != nil {
								return err
							}
						}
						return txn.Put(kvtest.Key(room, who), []byte("booked"))
					}
				}
				var a, b pairTxn
				reads := []func(*kv.Txn) (bool, error){free}
				if err := interleave(rng, a.steps(ctx, db, reads, book("a")), b.steps(ctx, db, reads, book("b"))); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if a.committed == b.committed {
					t.Fatalf("round %d: a committed=%v b committed=%v (want exactly one)", round, a.committed, b.committed)
				}
				if a.wantWrite && b.wantWrite {
					races++
				}
				var c int
				if err := runTxn(ctx, n, func(txn *kv.Txn) (err error) {
					c, err = count(txn)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if c != 1 {
					t.Fatalf("round %d: %d bookings", round, c)
				}
			}
		})
	}
}

// TestWriteSkewConcurrentRetries runs the on-call pair as concurrent
// goroutines that retry conflicts (so commits and prepares really overlap):
// at the end exactly one doctor is on call, every round.
func TestWriteSkewConcurrentRetries(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	rounds := scale(50, 500)
	p1, p2 := kvtest.TablesOn(1, 4, rounds), kvtest.TablesOn(2, 4, rounds)
	for round := 0; round < rounds; round++ {
		keys := [][]byte{kvtest.Key(p1[round], "alice"), kvtest.Key(p2[round], "bob")}
		if err := runTxn(ctx, n, func(txn *kv.Txn) error {
			_ = txn.Put(keys[0], []byte("on"))
			return txn.Put(keys[1], []byte("on"))
		}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for me := 0; me < 2; me++ {
			go func() {
				errs <- runTxn(ctx, n, func(txn *kv.Txn) error {
					on := 0
					for _, k := range keys {
						v, _, err := txn.Get(ctx, k)
						if err != nil {
							return err
						}
						if string(v) == "on" {
							on++
						}
					}
					if on < 2 {
						return nil
					}
					return txn.Put(keys[me], []byte("off"))
				})
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		var on int
		if err := runTxn(ctx, n, func(txn *kv.Txn) error {
			on = 0
			for _, k := range keys {
				v, _, err := txn.Get(ctx, k)
				if err != nil {
					return err
				}
				if string(v) == "on" {
					on++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if on != 1 {
			t.Fatalf("round %d: %s", round, fmt.Sprint(on, " doctors on call"))
		}
	}
}

// ---- list-append histories and an Elle-style checker ----

type txnStatus int

const (
	txnOK   txnStatus = iota // committed
	txnFail                  // definitely did not commit
	txnInfo                  // ambiguous
)

// laOp is one micro-operation: append val to list key, or read list key.
type laOp struct {
	append bool
	key    int
	val    int
	read   []int // what a read returned
	// afterOwn marks a read of a key this transaction appended to before:
	// it checks internal consistency only.
	afterOwn bool
}

type laTxn struct {
	id     int
	ops    []laOp
	status txnStatus
}

func (t *laTxn) String() string {
	var b []byte
	b = fmt.Appendf(b, "T%d[", t.id)
	for i, op := range t.ops {
		if i > 0 {
			b = append(b, ' ')
		}
		if op.append {
			b = fmt.Appendf(b, "a(%d,%d)", op.key, op.val)
		} else {
			b = fmt.Appendf(b, "r(%d)=%v", op.key, op.read)
		}
	}
	return string(append(b, ']'))
}

func isPrefix(p, l []int) bool {
	if len(p) > len(l) {
		return false
	}
	for i := range p {
		if p[i] != l[i] {
			return false
		}
	}
	return true
}

// checkListAppend checks a list-append history against the final state of
// every list (read after the workload, so it holds every committed append).
// It reports, as readable strings:
//   - lost: an append of a committed transaction missing from the final list;
//   - G1a: an append of a failed transaction visible anywhere;
//   - atomicity: an ambiguous transaction partly visible in the final state;
//   - G1b: a read ending in a transaction's non-final append to that key;
//   - incompatible order: a read that is not a prefix of the final list, or
//     a duplicated element;
//   - internal: a read after the transaction's own appends that does not end
//     with them;
//   - cycle: a cycle of ww/wr/rw dependencies between committed (or
//     ambiguous and visible) transactions — G0, G1c, G-single, G2.
func checkListAppend(txns []*laTxn, final map[int][]int) []string {
	var bad []string
	type elem struct{ key, val int }
	writer := map[elem]*laTxn{}
	lastAppend := map[elem]bool{} // the writer's last append to that key
	for _, t := range txns {
		last := map[int]int{}
		for _, op := range t.ops {
			if op.append {
				writer[elem{op.key, op.val}] = t
				last[op.key] = op.val
			}
		}
		for _, op := range t.ops {
			if op.append {
				lastAppend[elem{op.key, op.val}] = last[op.key] == op.val
			}
		}
	}
	pos := map[elem]int{} // index in the final list
	for k, l := range final {
		for i, v := range l {
			e := elem{k, v}
			if _, dup := pos[e]; dup {
				bad = append(bad, fmt.Sprintf("incompatible order: %d twice in list %d: %v", v, k, l))
			}
			pos[e] = i
			w := writer[e]
			switch {
			case w == nil:
				bad = append(bad, fmt.Sprintf("garbage: %d in list %d was never appended", v, k))
			case w.status == txnFail:
				bad = append(bad, fmt.Sprintf("G1a: final list %d holds %d of failed %v", k, v, w))
			}
		}
	}
	visible := func(t *laTxn) bool {
		if t.status == txnOK {
			return true
		}
		for _, op := range t.ops {
			if _, ok := pos[elem{op.key, op.val}]; op.append && ok {
				return true
			}
		}
		return false
	}
	for _, t := range txns {
		if t.status == txnFail {
			continue
		}
		seen, missing := 0, 0
		for _, op := range t.ops {
			if !op.append {
				continue
			}
			if _, ok := pos[elem{op.key, op.val}]; ok {
				seen++
			} else {
				missing++
			}
		}
		switch {
		case t.status == txnOK && missing > 0:
			bad = append(bad, fmt.Sprintf("lost: %d appends of committed %v missing from the final state", missing, t))
		case t.status == txnInfo && seen > 0 && missing > 0:
			bad = append(bad, fmt.Sprintf("atomicity: ambiguous %v partly visible", t))
		}
	}

	// Reads: order, G1a, G1b, internal consistency.
	for _, t := range txns {
		if t.status != txnOK {
			continue
		}
		own := map[int][]int{}
		for _, op := range t.ops {
			if op.append {
				own[op.key] = append(own[op.key], op.val)
				continue
			}
			if op.afterOwn {
				mine := own[op.key]
				if len(op.read) < len(mine) || !isPrefix(mine, op.read[len(op.read)-len(mine):]) {
					bad = append(bad, fmt.Sprintf("internal: %v read %v of list %d without its own appends %v", t, op.read, op.key, mine))
				}
				continue
			}
			if !isPrefix(op.read, final[op.key]) {
				bad = append(bad, fmt.Sprintf("incompatible order: %v read %v, final list %d is %v", t, op.read, op.key, final[op.key]))
			}
			for _, v := range op.read {
				if w := writer[elem{op.key, v}]; w != nil && w.status == txnFail {
					bad = append(bad, fmt.Sprintf("G1a: %v read %d of failed %v", t, v, w))
				}
			}
			if n := len(op.read); n > 0 {
				e := elem{op.key, op.read[n-1]}
				if w := writer[e]; w != nil && w != t && !lastAppend[e] {
					bad = append(bad, fmt.Sprintf("G1b: %v read %d, an intermediate append of %v", t, op.read[n-1], w))
				}
			}
		}
	}

	// Dependency graph over committed and visible ambiguous transactions.
	edges := map[*laTxn]map[*laTxn]string{}
	addEdge := func(from, to *laTxn, why string) {
		if from == nil || to == nil || from == to || !visible(from) || !visible(to) {
			return
		}
		if edges[from] == nil {
			edges[from] = map[*laTxn]string{}
		}
		if _, ok := edges[from][to]; !ok {
			edges[from][to] = why
		}
	}
	for k, l := range final {
		for i := 1; i < len(l); i++ {
			addEdge(writer[elem{k, l[i-1]}], writer[elem{k, l[i]}], fmt.Sprintf("ww on %d", k))
		}
	}
	for _, t := range txns {
		if t.status != txnOK {
			continue
		}
		for _, op := range t.ops {
			if op.append || op.afterOwn || !isPrefix(op.read, final[op.key]) {
				continue
			}
			l := final[op.key]
			if n := len(op.read); n > 0 {
				addEdge(writer[elem{op.key, op.read[n-1]}], t, fmt.Sprintf("wr on %d", op.key))
			}
			if n := len(op.read); n < len(l) {
				addEdge(t, writer[elem{op.key, l[n]}], fmt.Sprintf("rw on %d", op.key))
			}
		}
	}
	if cyc := findCycle(edges); cyc != nil {
		s := "cycle:"
		for i, t := range cyc {
			s += fmt.Sprintf(" %v -%s->", t, edges[t][cyc[(i+1)%len(cyc)]])
		}
		bad = append(bad, s)
	}
	return bad
}

// findCycle returns one cycle of the graph (in edge order), or nil.
func findCycle[N comparable, E any](edges map[N]map[N]E) []N {
	const (
		white = iota
		grey
		black
	)
	color := map[N]int{}
	var stack []N
	var found []N
	var visit func(n N) bool
	visit = func(n N) bool {
		color[n] = grey
		stack = append(stack, n)
		for m := range edges[n] {
			switch color[m] {
			case grey:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == m {
						found = append([]N(nil), stack[i:]...)
						return true
					}
				}
			case white:
				if visit(m) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for n := range edges {
		if color[n] == white && visit(n) {
			return found
		}
	}
	return nil
}

// TestListAppendCheckerFindsAnomalies: the checker is not vacuous.
func TestListAppendCheckerFindsAnomalies(t *testing.T) {
	app := func(k, v int) laOp { return laOp{append: true, key: k, val: v} }
	rd := func(k int, l ...int) laOp { return laOp{key: k, read: l} }
	for _, tc := range []struct {
		name  string
		txns  []*laTxn
		final map[int][]int
		want  string
	}{
		{"lost", []*laTxn{{id: 1, ops: []laOp{app(1, 1)}}}, map[int][]int{}, "lost"},
		{"G1a", []*laTxn{{id: 1, ops: []laOp{app(1, 1)}, status: txnFail}, {id: 2, ops: []laOp{rd(1, 1)}}}, map[int][]int{1: {1}}, "G1a"},
		{"G1b", []*laTxn{{id: 1, ops: []laOp{app(1, 1), app(1, 2)}}, {id: 2, ops: []laOp{rd(1, 1)}}}, map[int][]int{1: {1, 2}}, "G1b"},
		{"atomicity", []*laTxn{{id: 1, ops: []laOp{app(1, 1), app(2, 2)}, status: txnInfo}}, map[int][]int{1: {1}}, "atomicity"},
		{"order", []*laTxn{{id: 1, ops: []laOp{app(1, 1)}}, {id: 2, ops: []laOp{app(1, 2)}}, {id: 3, ops: []laOp{rd(1, 2)}}}, map[int][]int{1: {1, 2}}, "incompatible order"},
		// Write skew: each read the other's key empty, then appended to its own.
		{"G2", []*laTxn{{id: 1, ops: []laOp{rd(2), app(1, 1)}}, {id: 2, ops: []laOp{rd(1), app(2, 2)}}}, map[int][]int{1: {1}, 2: {2}}, "cycle"},
		{"internal", []*laTxn{{id: 1, ops: []laOp{app(1, 1), {key: 1, read: []int{}, afterOwn: true}}}}, map[int][]int{1: {1}}, "internal"},
	} {
		bad := checkListAppend(tc.txns, tc.final)
		if len(bad) == 0 || !strings.HasPrefix(bad[0], tc.want) {
			t.Errorf("%s: checker said %q", tc.name, bad)
		}
	}
	ok := []*laTxn{{id: 1, ops: []laOp{app(1, 1), app(2, 1)}}, {id: 2, ops: []laOp{rd(1, 1), app(1, 2)}}, {id: 3, ops: []laOp{rd(2, 1), rd(1, 1, 2)}}}
	if bad := checkListAppend(ok, map[int][]int{1: {1, 2}, 2: {1}}); len(bad) != 0 {
		t.Fatalf("serializable history rejected: %q", bad)
	}
}

func encodeList(l []int) []byte {
	var b []byte
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return b
}

func decodeList(b []byte) ([]int, error) {
	if len(b) == 0 {
		return []int{}, nil
	}
	parts := strings.Split(string(b), ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", b, err)
		}
		out[i] = v
	}
	return out, nil
}

// TestListAppendAcrossCrashes: workers run transactions of 1–4 random
// appends and reads over 8 lists spread on 4 partitions (one attempt
// each); the node crashes twice under load. The history must have no lost
// committed append, no aborted (G1a) or intermediate (G1b) read, and no
// dependency cycle.
func TestListAppendAcrossCrashes(t *testing.T) { listAppendRun(t, 2, false) }

// TestListAppendWithFaults: the same workload with one crash while about
// 3% of kv requests fail before they are sent and 3% of the successful
// writes (prepares, commit records, resolutions, 1PC commits) lose their
// answer and look ambiguous.
func TestListAppendWithFaults(t *testing.T) { listAppendRun(t, 1, true) }

func listAppendRun(t *testing.T, numCrashes int, faults bool) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	if faults {
		injectFaults(n, 3)
	}
	const lists = 8
	keyOf := func(k int) []byte {
		return kvtest.Key(kvtest.TablesOn(uint64(k%4+1), 4, 2)[k/4%2], "list"+strconv.Itoa(k))
	}
	workers, perWorker := 6, scale(400, 3000)
	var crashes []int
	for i := 1; i <= numCrashes; i++ {
		crashes = append(crashes, i*workers*perWorker/(numCrashes+1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var history []*laTxn
	var finished atomic.Int64
	var unexpected errFirst
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w) + 100))
			next := 0
			for i := 0; i < perWorker && ctx.Err() == nil; i++ {
				t := &laTxn{id: w*1_000_000 + i}
				for j := rng.Intn(4) + 1; j > 0; j-- {
					op := laOp{key: rng.Intn(lists), append: rng.Intn(2) == 0}
					if op.append {
						next++
						op.val = w*1_000_000 + next
					}
					t.ops = append(t.ops, op)
					// Sometimes append twice to one key (G1b material).
					if op.append && rng.Intn(4) == 0 {
						next++
						t.ops = append(t.ops, laOp{key: op.key, append: true, val: w*1_000_000 + next})
					}
				}
				err := runListAppend(ctx, n.CurrentDB(), keyOf, t)
				var amb *kvpb.AmbiguousError
				switch {
				case err == nil:
					t.status = txnOK
				case errors.As(err, &amb):
					t.status = txnInfo
				case kvpb.IsRetryable(err):
					t.status = txnFail
				default:
					unexpected.set(fmt.Errorf("%v: %w", t, err))
					return
				}
				mu.Lock()
				history = append(history, t)
				mu.Unlock()
				finished.Add(1)
				if err != nil {
					time.Sleep(time.Millisecond) // back off (conflict, or the node restarting)
				}
			}
		}(w)
	}
	for _, at := range crashes {
		kvtest.WaitFor(t, time.Minute, func() error {
			if f := finished.Load(); f < int64(at) && unexpected.get() == nil {
				return fmt.Errorf("%d transactions finished", f)
			}
			return nil
		})
		n.Crash()
	}
	wg.Wait()
	if err := unexpected.get(); err != nil {
		t.Fatal(err)
	}
	n.SetFault(nil)
	n.SetLostReply(nil)
	final := map[int][]int{}
	if err := runTxn(ctx, n, func(txn *kv.Txn) error {
		for k := 0; k < lists; k++ {
			v, _, err := txn.Get(ctx, keyOf(k))
			if err != nil {
				return err
			}
			if final[k], err = decodeList(v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	counts := map[txnStatus]int{}
	for _, tx := range history {
		counts[tx.status]++
	}
	t.Logf("%d transactions: %d committed, %d failed, %d ambiguous; epoch %d", len(history), counts[txnOK], counts[txnFail], counts[txnInfo], n.Epoch)
	if counts[txnOK] < len(history)/5 {
		t.Fatalf("too few commits to mean anything: %v", counts)
	}
	if bad := checkListAppend(history, final); len(bad) > 0 {
		if len(bad) > 20 {
			bad = bad[:20]
		}
		t.Fatalf("anomalies:\n%s", strings.Join(bad, "\n"))
	}
}

// runListAppend runs one attempt of t's operations and commits.
func runListAppend(ctx context.Context, db *kv.DB, keyOf func(int) []byte, t *laTxn) error {
	txn, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	appended := map[int]bool{}
	for i := range t.ops {
		op := &t.ops[i]
		v, _, err := txn.Get(ctx, keyOf(op.key))
		if err != nil {
			return err
		}
		l, err := decodeList(v)
		if err != nil {
			return err
		}
		if op.append {
			appended[op.key] = true
			if err := txn.Put(keyOf(op.key), encodeList(append(l, op.val))); err != nil {
				return err
			}
			continue
		}
		op.read, op.afterOwn = l, appended[op.key]
	}
	return txn.Commit(ctx)
}
