package histcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// Status is what a transaction's client learned of its outcome.
type Status int

const (
	StatusOK   Status = iota // committed
	StatusFail               // definitely did not commit
	StatusInfo               // ambiguous
)

// Op is one micro-operation: append Val to list Key, or read list Key.
type Op struct {
	Append bool
	Key    int
	Val    int
	Read   []int // what a read returned
	// AfterOwn marks a read of a key this transaction appended to before:
	// it checks internal consistency only.
	AfterOwn bool
}

// Txn is one transaction of a list-append history.
type Txn struct {
	ID     int
	Ops    []Op
	Status Status
}

func (t *Txn) String() string {
	var b []byte
	b = fmt.Appendf(b, "T%d[", t.ID)
	for i, op := range t.Ops {
		if i > 0 {
			b = append(b, ' ')
		}
		if op.Append {
			b = fmt.Appendf(b, "a(%d,%d)", op.Key, op.Val)
		} else {
			b = fmt.Appendf(b, "r(%d)=%v", op.Key, op.Read)
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

// CheckListAppend checks a list-append history against the final state of
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
func CheckListAppend(txns []*Txn, final map[int][]int) []string {
	var bad []string
	type elem struct{ key, val int }
	writer := map[elem]*Txn{}
	lastAppend := map[elem]bool{} // the writer's last append to that key
	for _, t := range txns {
		last := map[int]int{}
		for _, op := range t.Ops {
			if op.Append {
				writer[elem{op.Key, op.Val}] = t
				last[op.Key] = op.Val
			}
		}
		for _, op := range t.Ops {
			if op.Append {
				lastAppend[elem{op.Key, op.Val}] = last[op.Key] == op.Val
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
			case w.Status == StatusFail:
				bad = append(bad, fmt.Sprintf("G1a: final list %d holds %d of failed %v", k, v, w))
			}
		}
	}
	visible := func(t *Txn) bool {
		if t.Status == StatusOK {
			return true
		}
		for _, op := range t.Ops {
			if _, ok := pos[elem{op.Key, op.Val}]; op.Append && ok {
				return true
			}
		}
		return false
	}
	for _, t := range txns {
		if t.Status == StatusFail {
			continue
		}
		seen, missing := 0, 0
		for _, op := range t.Ops {
			if !op.Append {
				continue
			}
			if _, ok := pos[elem{op.Key, op.Val}]; ok {
				seen++
			} else {
				missing++
			}
		}
		switch {
		case t.Status == StatusOK && missing > 0:
			bad = append(bad, fmt.Sprintf("lost: %d appends of committed %v missing from the final state", missing, t))
		case t.Status == StatusInfo && seen > 0 && missing > 0:
			bad = append(bad, fmt.Sprintf("atomicity: ambiguous %v partly visible", t))
		}
	}

	// Reads: order, G1a, G1b, internal consistency.
	for _, t := range txns {
		if t.Status != StatusOK {
			continue
		}
		own := map[int][]int{}
		for _, op := range t.Ops {
			if op.Append {
				own[op.Key] = append(own[op.Key], op.Val)
				continue
			}
			if op.AfterOwn {
				mine := own[op.Key]
				if len(op.Read) < len(mine) || !isPrefix(mine, op.Read[len(op.Read)-len(mine):]) {
					bad = append(bad, fmt.Sprintf("internal: %v read %v of list %d without its own appends %v", t, op.Read, op.Key, mine))
				}
				continue
			}
			if !isPrefix(op.Read, final[op.Key]) {
				bad = append(bad, fmt.Sprintf("incompatible order: %v read %v, final list %d is %v", t, op.Read, op.Key, final[op.Key]))
			}
			for _, v := range op.Read {
				if w := writer[elem{op.Key, v}]; w != nil && w.Status == StatusFail {
					bad = append(bad, fmt.Sprintf("G1a: %v read %d of failed %v", t, v, w))
				}
			}
			if n := len(op.Read); n > 0 {
				e := elem{op.Key, op.Read[n-1]}
				if w := writer[e]; w != nil && w != t && !lastAppend[e] {
					bad = append(bad, fmt.Sprintf("G1b: %v read %d, an intermediate append of %v", t, op.Read[n-1], w))
				}
			}
		}
	}

	// Dependency graph over committed and visible ambiguous transactions.
	edges := map[*Txn]map[*Txn]string{}
	addEdge := func(from, to *Txn, why string) {
		if from == nil || to == nil || from == to || !visible(from) || !visible(to) {
			return
		}
		if edges[from] == nil {
			edges[from] = map[*Txn]string{}
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
		if t.Status != StatusOK {
			continue
		}
		for _, op := range t.Ops {
			if op.Append || op.AfterOwn || !isPrefix(op.Read, final[op.Key]) {
				continue
			}
			l := final[op.Key]
			if n := len(op.Read); n > 0 {
				addEdge(writer[elem{op.Key, op.Read[n-1]}], t, fmt.Sprintf("wr on %d", op.Key))
			}
			if n := len(op.Read); n < len(l) {
				addEdge(t, writer[elem{op.Key, l[n]}], fmt.Sprintf("rw on %d", op.Key))
			}
		}
	}
	if cyc := FindCycle(edges); cyc != nil {
		s := "cycle:"
		for i, t := range cyc {
			s += fmt.Sprintf(" %v -%s->", t, edges[t][cyc[(i+1)%len(cyc)]])
		}
		bad = append(bad, s)
	}
	return bad
}

// FindCycle returns one cycle of the graph (in edge order), or nil.
func FindCycle[N comparable, E any](edges map[N]map[N]E) []N {
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

func EncodeList(l []int) []byte {
	var b []byte
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return b
}

func DecodeList(b []byte) ([]int, error) {
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
