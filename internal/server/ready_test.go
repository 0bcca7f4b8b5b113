package server

import (
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/replica"
)

// A cluster node is unready until every partition has had a leader; after
// that, a partition without one (a leadership transfer in progress) keeps
// the node ready for an election timeout, and only then makes it refuse.
func TestClusterReadyToleratesLeaderTransfer(t *testing.T) {
	var now int64 = 1
	cn := &clusterNode{monoNow: func() int64 { return now }}
	leaders := map[uint64]uint64{1: 0, 2: 0}
	status := func(id uint64) (replica.Status, error) {
		l, ok := leaders[id]
		if !ok {
			return replica.Status{}, errors.New("no such partition")
		}
		return replica.Status{LeaderID: l}, nil
	}
	ids := []uint64{1, 2}
	check := func(want bool, what string) {
		t.Helper()
		if got := cn.readyOf(ids, status); got != want {
			t.Fatalf("%s: ready = %v, want %v", what, got, want)
		}
	}

	check(false, "no leader yet")
	leaders[1] = 7
	check(false, "partition 2 never had a leader")
	leaders[2] = 8
	check(true, "both partitions led")

	// Partition 2's leadership moves: leaderless for a moment.
	leaders[2] = 0
	now += int64(time.Millisecond)
	check(true, "transfer just started")
	now += int64(leaderlessGrace) - 2*int64(time.Millisecond)
	check(true, "leaderless for just under the grace")
	leaders[2] = 9
	check(true, "new leader")

	// Leaderless again: the grace starts over, then runs out.
	leaders[2] = 0
	now += int64(time.Hour)
	check(true, "leaderless, noticed now")
	now += int64(leaderlessGrace)
	check(false, "leaderless for the whole grace (cut off from the majority)")
	check(false, "still")
	leaders[2] = 9
	check(true, "leader back")

	ids = append(ids, 3)
	check(false, "a partition this node cannot report on")
}
