// Package testutil holds helpers shared by the project's tests. It is
// imported only from _test.go files and test harness packages.
package testutil

import (
	"testing"
	"time"
)

// SucceedsSoon polls cond with exponential backoff (1 ms up to 50 ms)
// until it returns nil, and fails the test with cond's last error once
// timeout has passed. It waits on a condition; it never sleeps a fixed time
// as synchronisation.
func SucceedsSoon(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		timer := time.NewTimer(pause)
		<-timer.C
		pause = min(2*pause, 50*time.Millisecond)
	}
}
