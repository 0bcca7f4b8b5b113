package testutil

import (
	"errors"
	"testing"
	"time"
)

func TestSucceedsSoonPollsUntilTrue(t *testing.T) {
	calls := 0
	SucceedsSoon(t, 5*time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
}

type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed = true
	panic(f)
}

func TestSucceedsSoonFailsAfterTimeout(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		SucceedsSoon(rec, 10*time.Millisecond, func() error { return errors.New("never") })
	}()
	if !rec.failed {
		t.Fatal("an unmet condition did not fail the test")
	}
}
