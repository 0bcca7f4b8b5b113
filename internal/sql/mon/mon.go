package mon

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Names of the settings the budgets come from, for error messages.
const (
	NodeSetting  = "sql_memory_bytes"
	QuerySetting = "sql_query_memory_bytes"
)

// DefaultQueryBudget is the default per-query budget (256 MiB).
const DefaultQueryBudget int64 = 256 << 20

// BudgetError says a reservation did not fit a budget.
type BudgetError struct {
	// Node is set when the node-wide budget is exhausted, otherwise the
	// query's own budget was.
	Node bool
	// Limit is the budget in bytes; What names the operator that asked.
	Limit int64
	What  string
}

// Setting is the configuration key that raises the budget.
func (e *BudgetError) Setting() string {
	if e.Node {
		return NodeSetting
	}
	return QuerySetting
}

func (e *BudgetError) Error() string {
	if e.Node {
		return fmt.Sprintf("the node's SQL memory budget of %s is exhausted (%s needed more); retry later, or raise %s",
			FormatBytes(e.Limit), e.What, NodeSetting)
	}
	return fmt.Sprintf("query memory budget of %s exceeded by %s, which cannot spill to disk; add a more selective condition or an index, or raise %s",
		FormatBytes(e.Limit), e.What, QuerySetting)
}

// FormatBytes renders n as KiB/MiB/GiB when it is a whole multiple.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Monitor is the node-wide budget. It is safe for concurrent use.
type Monitor struct {
	limit int64 // <= 0: unlimited
	mu    struct {
		sync.Mutex
		used, high int64
	}
}

// NewMonitor returns a Monitor with limit bytes (<= 0: unlimited).
func NewMonitor(limit int64) *Monitor { return &Monitor{limit: limit} }

// Limit is the budget in bytes (<= 0: unlimited).
func (m *Monitor) Limit() int64 { return m.limit }

// Used is the bytes reserved now by all accounts.
func (m *Monitor) Used() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.used
}

// HighWater is the most bytes ever reserved at once.
func (m *Monitor) HighWater() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.high
}

func (m *Monitor) reserve(n int64, what string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.limit > 0 && m.mu.used+n > m.limit {
		return &BudgetError{Node: true, Limit: m.limit, What: what}
	}
	m.mu.used += n
	m.mu.high = max(m.mu.high, m.mu.used)
	return nil
}

func (m *Monitor) release(n int64) {
	m.mu.Lock()
	m.mu.used -= n
	if m.mu.used < 0 {
		panic(fmt.Sprintf("mon: monitor released %d bytes more than reserved", -m.mu.used))
	}
	m.mu.Unlock()
}

// NewAccount opens a query's account with a budget of limit bytes (<= 0:
// DefaultQueryBudget). Close it when the query ends.
func (m *Monitor) NewAccount(limit int64) *Account {
	if limit <= 0 {
		limit = DefaultQueryBudget
	}
	return &Account{mon: m, limit: limit}
}

// Account is one query's reservations. Its mutating methods are for the
// query's goroutine; Used and HighWater may be read from any goroutine.
// A nil *Account accepts every reservation (no accounting).
type Account struct {
	mon   *Monitor
	limit int64
	used  atomic.Int64
	high  atomic.Int64
}

// Limit is the query budget in bytes (0 for a nil Account).
func (a *Account) Limit() int64 {
	if a == nil {
		return 0
	}
	return a.limit
}

// Used is the bytes the query holds now. Safe from any goroutine (SHOW
// QUERIES reads it).
func (a *Account) Used() int64 {
	if a == nil {
		return 0
	}
	return a.used.Load()
}

// HighWater is the most bytes the query held at once. Safe from any
// goroutine.
func (a *Account) HighWater() int64 {
	if a == nil {
		return 0
	}
	return a.high.Load()
}

// Fits reports whether n more bytes stay within the query budget; an
// operator that can spill asks before it grows.
func (a *Account) Fits(n int64) bool {
	return a == nil || a.used.Load()+n <= a.limit
}

// Grow reserves n bytes, failing only when the node budget has no room.
// Operators that can spill call it after Fits; buffers that the query
// budget does not bound (the result handed to the client) call it alone.
func (a *Account) Grow(n int64, what string) error {
	if a == nil || n <= 0 {
		return nil
	}
	if err := a.mon.reserve(n, what); err != nil {
		return err
	}
	used := a.used.Add(n)
	if used > a.high.Load() {
		a.high.Store(used)
	}
	return nil
}

// GrowBounded reserves n bytes for an operator that cannot spill: past
// the query budget it fails with a query *BudgetError.
func (a *Account) GrowBounded(n int64, what string) error {
	if !a.Fits(n) {
		return &BudgetError{Limit: a.limit, What: what}
	}
	return a.Grow(n, what)
}

// Shrink releases n bytes reserved earlier.
func (a *Account) Shrink(n int64) {
	if a == nil || n <= 0 {
		return
	}
	if a.used.Add(-n) < 0 {
		panic(fmt.Sprintf("mon: account released %d bytes more than reserved", -a.used.Load()))
	}
	a.mon.release(n)
}

// Close releases whatever the query still holds.
func (a *Account) Close() {
	if a == nil {
		return
	}
	if n := a.used.Swap(0); n > 0 {
		a.mon.release(n)
	}
}

// PhysicalMemory returns the memory this process may use: the machine's
// MemTotal (from /proc/meminfo), lowered to the cgroup's memory limit
// when one is set. ok=false when neither can be read (not Linux).
func PhysicalMemory() (bytes int64, ok bool) {
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil && kb > 0 {
					bytes, ok = kb<<10, true
				}
				break
			}
		}
		f.Close()
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if err != nil || limit <= 0 || limit >= 1<<60 { // "max" or "unlimited"
			continue
		}
		if !ok || limit < bytes {
			bytes, ok = limit, true
		}
	}
	return bytes, ok
}

// DefaultNodeBudget is a quarter of PhysicalMemory, or 1 GiB when that
// is unknown.
func DefaultNodeBudget() int64 {
	if mem, ok := PhysicalMemory(); ok {
		return mem / 4
	}
	return 1 << 30
}
