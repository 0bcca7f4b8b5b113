// Package hlc implements a hybrid logical clock.
//
// A Timestamp is (WallTime nanoseconds, Logical counter). Now() is strictly
// increasing on one Clock; Update() forwards the clock past a timestamp
// received from another node (or from a request) so that causality is kept.
//
// Every read served at readTS first forwards the leaseholder's clock to
// readTS, so the clock is above every read the node served: a new lease's
// timestamp cache may start with the clock as its low-water mark (see
// internal/kv/OVERVIEW.md), and lease start and expiration times are read
// from it (internal/replica/lease).
//
// A Clock may keep a persisted upper bound (bound.go): before it hands out
// or is forwarded to a wall time at or past the last durable bound, it
// makes a new bound a window ahead durable, so a restarted node can start
// above everything it handed out before, whatever the machine clock did.
package hlc

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// Timestamp is a point in hybrid logical time. The zero value is "no time".
type Timestamp struct {
	WallTime int64 // nanoseconds since the Unix epoch
	Logical  int32
}

// MaxTimestamp sorts above every real timestamp.
var MaxTimestamp = Timestamp{WallTime: 1<<63 - 1, Logical: 1<<31 - 1}

// IsEmpty reports whether t is the zero timestamp.
func (t Timestamp) IsEmpty() bool { return t == Timestamp{} }

// Less reports whether t sorts before u.
func (t Timestamp) Less(u Timestamp) bool {
	return t.WallTime < u.WallTime || (t.WallTime == u.WallTime && t.Logical < u.Logical)
}

// LessEq reports whether t <= u.
func (t Timestamp) LessEq(u Timestamp) bool { return !u.Less(t) }

// Compare returns -1, 0 or +1.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.Less(u):
		return -1
	case u.Less(t):
		return 1
	}
	return 0
}

// Next returns the smallest timestamp greater than t.
func (t Timestamp) Next() Timestamp {
	if t.Logical == 1<<31-1 {
		return Timestamp{WallTime: t.WallTime + 1}
	}
	return Timestamp{WallTime: t.WallTime, Logical: t.Logical + 1}
}

// Prev returns the largest timestamp smaller than t (t itself when t is
// empty).
func (t Timestamp) Prev() Timestamp {
	switch {
	case t.Logical > 0:
		return Timestamp{WallTime: t.WallTime, Logical: t.Logical - 1}
	case t.WallTime > 0:
		return Timestamp{WallTime: t.WallTime - 1, Logical: 1<<31 - 1}
	}
	return t
}

// Forward returns the later of t and u.
func (t Timestamp) Forward(u Timestamp) Timestamp {
	if t.Less(u) {
		return u
	}
	return t
}

func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallTime, t.Logical) }

// EncodedLen is the size of the fixed-width encoding.
const EncodedLen = 12

// AppendEncode appends the 12-byte big-endian encoding (sorts ascending).
func (t Timestamp) AppendEncode(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.WallTime))
	return binary.BigEndian.AppendUint32(b, uint32(t.Logical))
}

// Decode reads a timestamp written by AppendEncode.
func Decode(b []byte) (Timestamp, error) {
	if len(b) < EncodedLen {
		return Timestamp{}, fmt.Errorf("hlc: timestamp needs %d bytes, have %d", EncodedLen, len(b))
	}
	return Timestamp{
		WallTime: int64(binary.BigEndian.Uint64(b)),
		Logical:  int32(binary.BigEndian.Uint32(b[8:])),
	}, nil
}

// WallClock is the physical time source; tests inject a manual one.
type WallClock func() int64

// UnixNano is the real wall clock.
func UnixNano() int64 { return time.Now().UnixNano() }

// Clock is a hybrid logical clock safe for concurrent use.
type Clock struct {
	wall WallClock
	mu   struct {
		sync.Mutex
		last Timestamp // guarded by mu: the highest timestamp handed out or seen
	}
	// bound is the persisted upper bound (bound.go); unused until
	// PersistUpperBound.
	bound bound
}

// NewClock returns a clock reading physical time from wall (nil = real time).
func NewClock(wall WallClock) *Clock {
	if wall == nil {
		wall = UnixNano
	}
	return &Clock{wall: wall}
}

// Now returns a timestamp strictly greater than every timestamp this clock
// returned or was updated with before.
func (c *Clock) Now() Timestamp {
	physical := c.wall()
	c.mu.Lock()
	if physical > c.mu.last.WallTime {
		c.mu.last = Timestamp{WallTime: physical}
	} else {
		c.mu.last = c.mu.last.Next()
	}
	now := c.mu.last
	c.mu.Unlock()
	c.ensureBound(now.WallTime) // before anyone sees now (bound.go)
	return now
}

// Update forwards the clock so that later Now() calls exceed ts.
func (c *Clock) Update(ts Timestamp) {
	c.mu.Lock()
	c.mu.last = c.mu.last.Forward(ts)
	last := c.mu.last
	c.mu.Unlock()
	c.ensureBound(last.WallTime)
}

// Peek returns the highest timestamp handed out or seen, without advancing.
func (c *Clock) Peek() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.last
}

// ManualClock is a settable wall clock for tests.
type ManualClock struct {
	mu  sync.Mutex
	now int64
}

// NewManualClock starts at nanos.
func NewManualClock(nanos int64) *ManualClock { return &ManualClock{now: nanos} }

// UnixNano reads the manual time; pass m.UnixNano to NewClock.
func (m *ManualClock) UnixNano() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Increment moves the manual time forward by d.
func (m *ManualClock) Increment(d time.Duration) {
	m.mu.Lock()
	m.now += int64(d)
	m.mu.Unlock()
}
