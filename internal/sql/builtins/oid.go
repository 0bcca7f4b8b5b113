package builtins

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// IDGenerator makes object ids laid out like MongoDB ObjectIds:
//
//	bytes 0-3   unix seconds, big-endian (ids sort by creation second)
//	bytes 4-8   5 random bytes chosen once per generator (per process)
//	bytes 9-11  a 24-bit counter, big-endian, starting at a random value
//
// Two generators (two nodes, two processes) differ in their random bytes
// with overwhelming probability, so ids are unique across the cluster
// without coordination; one generator makes up to 2^24 distinct ids per
// second. Safe for concurrent use.
type IDGenerator struct {
	random  [5]byte
	counter atomic.Uint32
	now     func() time.Time
}

// NewIDGenerator returns a generator with fresh random bytes. now is the
// clock (nil: time.Now).
func NewIDGenerator(now func() time.Time) *IDGenerator {
	g := &IDGenerator{now: now}
	if g.now == nil {
		g.now = time.Now
	}
	var seed [8]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(seed[:])
	copy(g.random[:], seed[:5])
	g.counter.Store(uint32(seed[5])<<16 | uint32(seed[6])<<8 | uint32(seed[7]))
	return g
}

// Next returns a new id.
func (g *IDGenerator) Next() types.Value {
	var raw [types.OIDLen]byte
	binary.BigEndian.PutUint32(raw[0:4], uint32(g.now().Unix()))
	copy(raw[4:9], g.random[:])
	c := g.counter.Add(1)
	raw[9], raw[10], raw[11] = byte(c>>16), byte(c>>8), byte(c)
	return types.NewOID(raw)
}

// defaultIDs is the process-wide generator: the 5 random bytes must be
// chosen once per process, which is why this one piece of state is global.
var defaultIDs = sync.OnceValue(func() *IDGenerator { return NewIDGenerator(nil) })

// GenID returns a new id from the process-wide generator.
func GenID() types.Value { return defaultIDs().Next() }
