// Package lease defines a partition's lease: the replicated record that says
// which node may serve reads and evaluate writes for the partition, and until
// when.
//
// A lease is replicated state. It changes only by a command applied through
// the partition's Raft log, and Apply decides — from the current lease and
// the request alone, so every replica decides the same — whether a request
// takes effect. There are three kinds of request:
//
//   - acquisition: a node takes a lease for itself with the next sequence
//     number. It is accepted only if it starts strictly after the current
//     lease expires, so two leases never overlap in time.
//   - extension: the holder (same node, same incarnation, same sequence)
//     moves the expiration forward; it never moves backwards. An extension
//     by the holder of a lease with no incarnation binds the lease to the
//     proposing incarnation (the first extension after a transfer).
//   - transfer: the holder hands the lease to another node (next sequence,
//     no incarnation). The outgoing holder has stopped serving before it
//     chose the new lease's start, so the new lease may begin before the old
//     one would have expired.
//
// A holder serves at clock reading now only while now + maxOffset <
// Expiration (Serves): with clocks at most maxOffset apart, when any other
// node's clock has passed Expiration — the earliest a successor's lease can
// start — the holder has stopped serving. A node incarnation (a random id
// chosen at every process start) that did not bind the lease may not use
// it: a restarted node has forgotten the reads it served, so it waits for
// its old lease to expire and acquires a new one, whose start is above every
// read served under the old one.
package lease

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// Lease is a partition's lease record. The zero value is "no lease yet".
type Lease struct {
	// Holder is the node id of the leaseholder (0: none).
	Holder uint64
	// Incarnation is the holder's process incarnation bound to the lease;
	// 0 after a transfer, until the new holder binds it.
	Incarnation uint64
	// Seq increments with every acquisition and transfer; extensions keep it.
	Seq uint64
	// Start and Expiration bound the lease in HLC time: [Start, Expiration).
	Start, Expiration hlc.Timestamp
}

// Kind is the kind of a lease request.
type Kind byte

// Request kinds.
const (
	Acquire  Kind = 1
	Extend   Kind = 2
	Transfer Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Acquire:
		return "acquire"
	case Extend:
		return "extend"
	case Transfer:
		return "transfer"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Request is a proposed lease change: the lease it would install.
type Request struct {
	Kind  Kind
	Lease Lease
}

// ErrRejected is wrapped by every refusal of Apply.
var ErrRejected = errors.New("lease request rejected")

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

// Apply returns the lease that results from applying req, proposed by node
// proposer, to cur, or an error wrapping ErrRejected (cur stays in force).
// It is deterministic: it depends only on its arguments.
func Apply(cur Lease, proposer uint64, req Request) (Lease, error) {
	next := req.Lease
	if next.Holder == 0 {
		return cur, rejected("no holder")
	}
	if !next.Start.Less(next.Expiration) {
		return cur, rejected("start %s not before expiration %s", next.Start, next.Expiration)
	}
	switch req.Kind {
	case Acquire:
		switch {
		case proposer != next.Holder:
			return cur, rejected("node %d cannot acquire a lease for node %d", proposer, next.Holder)
		case next.Seq != cur.Seq+1:
			return cur, rejected("acquisition with sequence %d, current %d", next.Seq, cur.Seq)
		case !cur.Expiration.Less(next.Start):
			return cur, rejected("acquisition starting at %s overlaps the current lease (expires %s)", next.Start, cur.Expiration)
		case next.Incarnation == 0:
			return cur, rejected("acquisition without an incarnation")
		}
		return next, nil
	case Extend:
		switch {
		case proposer != cur.Holder || next.Holder != cur.Holder:
			return cur, rejected("node %d cannot extend node %d's lease", proposer, cur.Holder)
		case next.Seq != cur.Seq:
			return cur, rejected("extension of sequence %d, current %d", next.Seq, cur.Seq)
		case next.Incarnation == 0:
			return cur, rejected("extension without an incarnation")
		case cur.Incarnation != 0 && next.Incarnation != cur.Incarnation:
			return cur, rejected("extension by incarnation %d of a lease bound to %d", next.Incarnation, cur.Incarnation)
		}
		out := cur
		out.Incarnation = next.Incarnation
		out.Expiration = cur.Expiration.Forward(next.Expiration)
		return out, nil
	case Transfer:
		switch {
		case proposer != cur.Holder:
			return cur, rejected("node %d cannot transfer node %d's lease", proposer, cur.Holder)
		case next.Holder == cur.Holder:
			return cur, rejected("transfer to the holder itself")
		case next.Seq != cur.Seq+1:
			return cur, rejected("transfer with sequence %d, current %d", next.Seq, cur.Seq)
		case next.Incarnation != 0:
			return cur, rejected("transfer naming an incarnation")
		case next.Start.Less(cur.Start):
			return cur, rejected("transfer starting at %s before the current lease (%s)", next.Start, cur.Start)
		}
		return next, nil
	}
	return cur, rejected("unknown request kind %d", byte(req.Kind))
}

// Serves reports whether node incarnation inc may serve under l at clock
// reading now, given the maximum clock offset between nodes.
func (l Lease) Serves(node, inc uint64, now hlc.Timestamp, maxOffset time.Duration) bool {
	if l.Holder != node || l.Incarnation != inc || inc == 0 {
		return false
	}
	return now.WallTime+int64(maxOffset) < l.Expiration.WallTime
}

// String renders the lease for logs.
func (l Lease) String() string {
	return fmt.Sprintf("lease{seq %d holder n%d/%x [%s, %s)}", l.Seq, l.Holder, l.Incarnation, l.Start, l.Expiration)
}

// encodedLen: kind | holder | incarnation | seq | start | expiration.
const encodedLen = 1 + 3*8 + 2*hlc.EncodedLen

// Version of the encoding, first byte.
const encodingVersion byte = 1

// AppendRequest appends the encoding of req to b.
func AppendRequest(b []byte, req Request) []byte {
	b = append(b, encodingVersion, byte(req.Kind))
	return appendLease(b, req.Lease)
}

func appendLease(b []byte, l Lease) []byte {
	b = binary.BigEndian.AppendUint64(b, l.Holder)
	b = binary.BigEndian.AppendUint64(b, l.Incarnation)
	b = binary.BigEndian.AppendUint64(b, l.Seq)
	b = l.Start.AppendEncode(b)
	return l.Expiration.AppendEncode(b)
}

// ErrCorrupt reports bytes that are not an encoded lease or request.
var ErrCorrupt = errors.New("lease: malformed encoding")

// DecodeRequest decodes AppendRequest's output.
func DecodeRequest(b []byte) (Request, error) {
	if len(b) != 1+encodedLen || b[0] != encodingVersion {
		return Request{}, ErrCorrupt
	}
	kind := Kind(b[1])
	if kind != Acquire && kind != Extend && kind != Transfer {
		return Request{}, ErrCorrupt
	}
	l, err := decodeLease(b[2:])
	return Request{Kind: kind, Lease: l}, err
}

// Encode returns the stored form of l.
func (l Lease) Encode() []byte {
	return appendLease([]byte{encodingVersion}, l)
}

// Decode decodes Encode's output.
func Decode(b []byte) (Lease, error) {
	if len(b) != encodedLen || b[0] != encodingVersion {
		return Lease{}, ErrCorrupt
	}
	return decodeLease(b[1:])
}

func decodeLease(b []byte) (Lease, error) {
	if len(b) != 3*8+2*hlc.EncodedLen {
		return Lease{}, ErrCorrupt
	}
	l := Lease{
		Holder:      binary.BigEndian.Uint64(b),
		Incarnation: binary.BigEndian.Uint64(b[8:]),
		Seq:         binary.BigEndian.Uint64(b[16:]),
	}
	var err error
	if l.Start, err = hlc.Decode(b[24:]); err != nil {
		return Lease{}, ErrCorrupt
	}
	if l.Expiration, err = hlc.Decode(b[24+hlc.EncodedLen:]); err != nil {
		return Lease{}, ErrCorrupt
	}
	return l, nil
}
