package kvremote

import (
	"sync"
	"testing"
)

func TestLoadCountsByPartitionAndNode(t *testing.T) {
	l := NewLoad(1, []uint64{1, 2, 3})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				l.add(7, 1)
				l.add(7, 3)
				l.add(8, 2)
			}
		}()
	}
	wg.Wait()
	l.add(7, 9) // not a member: not counted
	if got := l.Take(7); len(got) != 2 || got[1] != 400 || got[3] != 400 {
		t.Fatalf("partition 7: %v", got)
	}
	if got := l.Take(8); len(got) != 1 || got[2] != 400 {
		t.Fatalf("partition 8: %v", got)
	}
	if got := l.Take(7); got != nil {
		t.Fatalf("a new window starts empty: %v", got)
	}
	if got := l.Take(99); got != nil {
		t.Fatalf("unknown partition: %v", got)
	}
	var none *Load
	none.add(7, 1) // a nil Load counts nothing
}

var (
	lead   = Role{Leads: true, RaftLeader: true}
	follow = Role{}
)

func TestFollowerMovesAfterConsecutiveWindows(t *testing.T) {
	f := NewFollower(1, FollowConfig{MinRequests: 100, Windows: 2, StaleWindows: 3})
	remote := map[uint64]int64{1: 10, 2: 300, 3: 20}
	if act := f.Decide(5, remote, lead); act != (FollowAction{}) {
		t.Fatalf("first window: %+v", act)
	}
	if act := f.Decide(5, remote, lead); act.MoveTo != 2 {
		t.Fatalf("second window: %+v, want a move to 2", act)
	}
	if f.Keep(5) {
		t.Fatal("a node originating 3% of the requests keeps the partition")
	}
	// Pending: not asked again, and not withdrawn while the lease has
	// moved but leadership has not followed yet; withdrawn once it has.
	if act := f.Decide(5, remote, lead); act != (FollowAction{}) {
		t.Fatalf("while pending: %+v", act)
	}
	if act := f.Decide(5, nil, Role{RaftLeader: true}); act != (FollowAction{}) {
		t.Fatalf("lease moved, leadership not yet: %+v", act)
	}
	if act := f.Decide(5, nil, follow); !act.Withdraw || act.MoveTo != 0 {
		t.Fatalf("after the move: %+v, want withdraw", act)
	}
}

func TestFollowerWithdrawsAStaleMove(t *testing.T) {
	f := NewFollower(1, FollowConfig{MinRequests: 100, Windows: 1, StaleWindows: 2})
	if act := f.Decide(5, map[uint64]int64{2: 500}, lead); act.MoveTo != 2 {
		t.Fatalf("%+v", act)
	}
	// The target never takes over (lagging, down) and the load stops.
	for i := range 2 {
		if act := f.Decide(5, nil, lead); act != (FollowAction{}) {
			t.Fatalf("window %d: %+v", i, act)
		}
	}
	if act := f.Decide(5, nil, lead); !act.Withdraw {
		t.Fatalf("%+v, want withdraw", act)
	}
}

func TestFollowerHoldsStill(t *testing.T) {
	for _, tc := range []struct {
		name   string
		counts map[uint64]int64
		role   Role
	}{
		{"too few requests", map[uint64]int64{2: 99}, lead},
		{"split between two nodes", map[uint64]int64{1: 200, 2: 300}, lead},         // 2 sends < 2x local
		{"spread over three nodes", map[uint64]int64{1: 100, 2: 250, 3: 250}, lead}, // 2 sends < 60%
		{"not the leader", map[uint64]int64{2: 1000}, follow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFollower(1, FollowConfig{MinRequests: 100, Windows: 1})
			for range 5 {
				if act := f.Decide(5, tc.counts, tc.role); act != (FollowAction{}) {
					t.Fatalf("%+v", act)
				}
			}
		})
	}
	// A streak must be consecutive: a window pointing elsewhere restarts it.
	f := NewFollower(1, FollowConfig{MinRequests: 100, Windows: 2})
	for i, counts := range []map[uint64]int64{{2: 500}, {3: 500}, {2: 500}, {1: 500}, {2: 500}} {
		if act := f.Decide(5, counts, lead); act != (FollowAction{}) {
			t.Fatalf("window %d: %+v", i, act)
		}
	}
}

func TestFollowerKeep(t *testing.T) {
	f := NewFollower(1, FollowConfig{MinRequests: 100})
	if f.Keep(5) {
		t.Fatal("keep before any window")
	}
	f.Decide(5, map[uint64]int64{1: 300, 2: 250}, follow)
	if !f.Keep(5) {
		t.Fatal("a node originating more than half does not keep")
	}
	f.Decide(5, map[uint64]int64{1: 10}, lead) // too few: the last busy window stands
	if !f.Keep(5) {
		t.Fatal("an idle window dropped keep")
	}
	f.Decide(5, map[uint64]int64{1: 100, 3: 250}, lead)
	if f.Keep(5) {
		t.Fatal("a node originating under half keeps")
	}
	var none *Follower
	if none.Keep(5) {
		t.Fatal("nil follower keeps")
	}
}
