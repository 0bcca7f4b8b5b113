package histcheck

import (
	"math"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestRegisterModelRejectsStaleRead: the checker is not vacuous — a read
// that returns an overwritten value after the overwrite was acknowledged
// is not linearizable; an ambiguous write may land late.
func TestRegisterModelRejectsStaleRead(t *testing.T) {
	stale := []porcupine.Operation{
		{Input: RegInput{Key: 1, Op: "write", New: 1}, Output: RegOutput{}, Call: 0, Return: 10},
		{Input: RegInput{Key: 1, Op: "write", New: 2}, Output: RegOutput{}, Call: 20, Return: 30},
		{Input: RegInput{Key: 1, Op: "read"}, Output: RegOutput{Value: 1}, Call: 40, Return: 50},
	}
	if porcupine.CheckOperations(RegisterModel, stale) {
		t.Fatal("stale read accepted")
	}
	late := []porcupine.Operation{
		{Input: RegInput{Key: 1, Op: "write", New: 1}, Output: RegOutput{Unknown: true}, Call: 0, Return: math.MaxInt64},
		{Input: RegInput{Key: 1, Op: "read"}, Output: RegOutput{Value: 0}, Call: 40, Return: 50},
		{Input: RegInput{Key: 1, Op: "read"}, Output: RegOutput{Value: 1}, Call: 60, Return: 70},
	}
	if !porcupine.CheckOperations(RegisterModel, late) {
		t.Fatal("ambiguous write that landed late rejected")
	}
}

// TestListAppendCheckerFindsAnomalies: the checker is not vacuous.
func TestListAppendCheckerFindsAnomalies(t *testing.T) {
	app := func(k, v int) Op { return Op{Append: true, Key: k, Val: v} }
	rd := func(k int, l ...int) Op { return Op{Key: k, Read: l} }
	for _, tc := range []struct {
		name  string
		txns  []*Txn
		final map[int][]int
		want  string
	}{
		{"lost", []*Txn{{ID: 1, Ops: []Op{app(1, 1)}}}, map[int][]int{}, "lost"},
		{"G1a", []*Txn{{ID: 1, Ops: []Op{app(1, 1)}, Status: StatusFail}, {ID: 2, Ops: []Op{rd(1, 1)}}}, map[int][]int{1: {1}}, "G1a"},
		{"G1b", []*Txn{{ID: 1, Ops: []Op{app(1, 1), app(1, 2)}}, {ID: 2, Ops: []Op{rd(1, 1)}}}, map[int][]int{1: {1, 2}}, "G1b"},
		{"atomicity", []*Txn{{ID: 1, Ops: []Op{app(1, 1), app(2, 2)}, Status: StatusInfo}}, map[int][]int{1: {1}}, "atomicity"},
		{"order", []*Txn{{ID: 1, Ops: []Op{app(1, 1)}}, {ID: 2, Ops: []Op{app(1, 2)}}, {ID: 3, Ops: []Op{rd(1, 2)}}}, map[int][]int{1: {1, 2}}, "incompatible order"},
		// Write skew: each read the other's key empty, then appended to its own.
		{"G2", []*Txn{{ID: 1, Ops: []Op{rd(2), app(1, 1)}}, {ID: 2, Ops: []Op{rd(1), app(2, 2)}}}, map[int][]int{1: {1}, 2: {2}}, "cycle"},
		{"internal", []*Txn{{ID: 1, Ops: []Op{app(1, 1), {Key: 1, Read: []int{}, AfterOwn: true}}}}, map[int][]int{1: {1}}, "internal"},
	} {
		bad := CheckListAppend(tc.txns, tc.final)
		if len(bad) == 0 || !strings.HasPrefix(bad[0], tc.want) {
			t.Errorf("%s: checker said %q", tc.name, bad)
		}
	}
	ok := []*Txn{{ID: 1, Ops: []Op{app(1, 1), app(2, 1)}}, {ID: 2, Ops: []Op{rd(1, 1), app(1, 2)}}, {ID: 3, Ops: []Op{rd(2, 1), rd(1, 1, 2)}}}
	if bad := CheckListAppend(ok, map[int][]int{1: {1, 2}, 2: {1}}); len(bad) != 0 {
		t.Fatalf("serializable history rejected: %q", bad)
	}
}
