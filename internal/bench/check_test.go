package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// sumsTarget answers every QueryInt64s with the next of its canned rows.
type sumsTarget struct {
	rows [][]int64
}

func (t *sumsTarget) Name() string                                           { return "canned" }
func (t *sumsTarget) Exec(context.Context, string, ...any) error             { return nil }
func (t *sumsTarget) QueryRows(context.Context, string, ...any) (int, error) { return 1, nil }
func (t *sumsTarget) Close()                                                 {}
func (t *sumsTarget) Txn(ctx context.Context, fn func(tx Tx) error) (int, error) {
	return 1, nil
}
func (t *sumsTarget) QueryInt64s(context.Context, string, ...any) ([]int64, error) {
	if len(t.rows) == 0 {
		return nil, nil
	}
	r := t.rows[0]
	t.rows = t.rows[1:]
	return r, nil
}

func lookupOne(t *testing.T, name string) *Workload {
	t.Helper()
	ws, err := Lookup(name)
	if err != nil || len(ws) != 1 {
		t.Fatalf("Lookup(%q) = %v, %v", name, ws, err)
	}
	return ws[0]
}

// The consistency checks accept what their transactions keep and reject
// a lost or doubled write.
func TestWorkloadChecks(t *testing.T) {
	ctx := context.Background()
	cfg := Config{}.withDefaults()
	tpcb, bank := lookupOne(t, "tpcb"), lookupOne(t, "bank")
	for _, tc := range []struct {
		w    *Workload
		rows [][]int64
		ok   bool
	}{
		{tpcb, [][]int64{{-1234}, {-1234}, {-1234}, {-1234}}, true},
		{tpcb, [][]int64{{0}, {0}, {0}, {0}}, true},
		{tpcb, [][]int64{{-1234}, {-1234}, {-1234}, {-1000}}, false}, // a history row lost
		{tpcb, [][]int64{{10}, {20}, {10}, {10}}, false},             // a teller update applied twice
		{tpcb, [][]int64{{10}, {10}, nil, {10}}, false},              // no answer
		{bank, [][]int64{{1000, 499500}}, true},
		{bank, [][]int64{{1000, 499501}}, false},
		{bank, [][]int64{{999, 499500}}, false},
	} {
		err := tc.w.Check(ctx, &sumsTarget{rows: tc.rows}, cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s check of %v: %v, want ok=%v", tc.w.Name, tc.rows, err, tc.ok)
		}
	}
}

// A failed check fails the run and names itself.
func TestRunStopsOnAFailedCheck(t *testing.T) {
	w := lookupOne(t, "bank")
	w.Setup = func(context.Context, Target, Config) error { return nil }
	_, err := Run(context.Background(), Config{Clients: 1, Duration: time.Millisecond}, []*Workload{w},
		[]Target{&sumsTarget{rows: [][]int64{{1000, 1}}}})
	if err == nil || !strings.Contains(err.Error(), "consistency check") {
		t.Fatalf("Run = %v, want a consistency check failure", err)
	}
}
