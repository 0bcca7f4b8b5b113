package mon

import (
	"errors"
	"strings"
	"testing"
)

func TestAccountRollsUpIntoMonitor(t *testing.T) {
	m := NewMonitor(1000)
	a, b := m.NewAccount(600), m.NewAccount(600)
	if err := a.Grow(500, "sort"); err != nil {
		t.Fatal(err)
	}
	if !a.Fits(100) || a.Fits(101) {
		t.Fatalf("Fits around the query budget: used %d of %d", a.Used(), a.Limit())
	}
	// b has room in its own budget but the node has only 500 left.
	err := b.Grow(501, "hash-join")
	var be *BudgetError
	if !errors.As(err, &be) || !be.Node || be.Setting() != NodeSetting || !strings.Contains(err.Error(), NodeSetting) {
		t.Fatalf("node budget: err = %v", err)
	}
	if err := b.Grow(400, "hash-join"); err != nil {
		t.Fatal(err)
	}
	if m.Used() != 900 {
		t.Fatalf("monitor used = %d, want 900", m.Used())
	}
	// GrowBounded enforces the query budget.
	err = b.GrowBounded(201, "nested-loop-join")
	if !errors.As(err, &be) || be.Node || be.Setting() != QuerySetting || be.Limit != 600 {
		t.Fatalf("query budget: err = %v", err)
	}
	a.Shrink(200)
	if a.Used() != 300 || a.HighWater() != 500 {
		t.Fatalf("used/high = %d/%d, want 300/500", a.Used(), a.HighWater())
	}
	a.Close()
	b.Close()
	if m.Used() != 0 || m.HighWater() != 900 {
		t.Fatalf("after Close: monitor used/high = %d/%d, want 0/900", m.Used(), m.HighWater())
	}
}

func TestNilAccountAcceptsEverything(t *testing.T) {
	var a *Account
	if err := a.GrowBounded(1<<40, "x"); err != nil || !a.Fits(1<<40) || a.Used() != 0 {
		t.Fatal("nil account must not account")
	}
	a.Shrink(10)
	a.Close()
}

func TestDefaultNodeBudget(t *testing.T) {
	if n := DefaultNodeBudget(); n <= 0 {
		t.Fatalf("DefaultNodeBudget = %d", n)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{256 << 20: "256 MiB", 2 << 30: "2 GiB", 256 << 10: "256 KiB", 1000: "1000 bytes"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
