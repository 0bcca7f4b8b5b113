package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/replica/lease"
)

// Write is one mutation of a command. Key is a full engine key and must lie
// in storage.DataSpan(partitionID) of the partition it is proposed to.
type Write struct {
	Key, Value []byte
	Delete     bool
	// End, when set, makes the write a range deletion of every key in
	// [Key, End) (Value and Delete are ignored). End must lie in the
	// partition's data span too, or be its end, and be above Key.
	End []byte
}

// Command is the unit of replication: a raw write batch evaluated by the
// leader ("proposer-evaluated"). The state machine applies it blindly.
type Command struct {
	// EvalTerm is the Raft term the leader evaluated the command in. When
	// non-zero and different from the term of the log entry the command
	// lands in, the entry is applied as a no-op and the proposer gets a
	// *kvpb.RetryError.
	EvalTerm uint64
	Writes   []Write
	// Lazy marks a command whose proposer does not need it durable when it
	// is applied: it only matters together with a later durable command
	// (a prepare before its commit record), or losing it is harmless (intent
	// resolution, record deletion, garbage collection). In a group with a
	// single voter, a Ready holding only lazy entries is written without an
	// fsync; the log is one write-ahead log, so the next fsync makes it
	// durable together with everything before it. With several voters
	// every entry is fsynced as Raft requires. In a single-voter store a
	// lazy command may be appended before durable commands proposed
	// earlier that are still queued: the caller must only have commands in
	// flight together that commute (the kv layer proposes under latches
	// held until the command is applied; its garbage collection deletes
	// only what no command can touch).
	Lazy bool
	// OnSettled, when set, is called exactly once, when the command's fate
	// is settled: it was applied, or it is known that it never will be.
	// That is before Propose returns, except when Propose returns early
	// with *kvpb.AmbiguousError because its context ended while the
	// command was in flight: then it is called later, from the replica's
	// driver, once the entry is applied, overwritten, or the partition
	// closes. Whoever evaluated the command under latches releases them
	// here, not when Propose returns: a command still in flight may yet
	// commit, and a request evaluated meanwhile must see it. It must not
	// block.
	OnSettled func()
}

// Settle calls OnSettled, if set. A stand-in for the replica layer in a
// test calls it once the command is applied or refused.
func (c *Command) Settle() {
	if c.OnSettled != nil {
		c.OnSettled()
	}
}

// ErrKeyOutsidePartition is returned for a write whose key is not in the
// partition's data span (a bug in the caller).
var ErrKeyOutsidePartition = errors.New("replica: write key outside the partition's data span")

// Entry data format (version 1):
//
//	version byte | uvarint proposer node id | uvarint proposal seq |
//	uvarint eval term | uvarint write count |
//	per write: op byte (0 set, 1 delete, 2 range deletion) | uvarint key len | key |
//	           (set only) uvarint value len | value |
//	           (range deletion only) uvarint end len | end
//
// A node that predates range deletions applies a command holding one as
// a no-op (and logs it): every node of a cluster must run the same version.
//
// A lease command (version 2, proposed only by the driver) has the same
// header with a write count of 0, followed by lease.AppendRequest's bytes.
const (
	commandVersion      byte = 1
	leaseCommandVersion byte = 2
)

const (
	opSet         byte = 0
	opDelete      byte = 1
	opDeleteRange byte = 2
)

// commandHeader identifies a proposal inside a log entry.
type commandHeader struct {
	nodeID, seq, evalTerm uint64
	writes                uint64
	// lease: the entry is a lease command (the rest is a lease request).
	lease bool
}

func checkSpan(cmd *Command, start, end []byte) error {
	for i := range cmd.Writes {
		w := &cmd.Writes[i]
		if err := checkWrite(w.Key, w.End, start, end); err != nil {
			return err
		}
	}
	return nil
}

// checkWrite checks that a write of key (a range deletion up to rangeEnd
// when that is set) stays in the partition's data span [start, end).
func checkWrite(key, rangeEnd, start, end []byte) error {
	if bytes.Compare(key, start) < 0 || bytes.Compare(key, end) >= 0 {
		return fmt.Errorf("%w: key %x not in [%x, %x)", ErrKeyOutsidePartition, key, start, end)
	}
	if rangeEnd != nil && (bytes.Compare(rangeEnd, key) <= 0 || bytes.Compare(rangeEnd, end) > 0) {
		return fmt.Errorf("%w: range [%x, %x) not in [%x, %x)", ErrKeyOutsidePartition, key, rangeEnd, start, end)
	}
	return nil
}

// CommandHeaderBytes bounds the encoded size of a command's header.
const CommandHeaderBytes = 1 + 4*binary.MaxVarintLen64

// WriteBytes bounds the encoded size of one write in a command.
func WriteBytes(w *Write) int {
	return 1 + 2*binary.MaxVarintLen32 + len(w.Key) + len(w.Value) + len(w.End)
}

// CommandBytes bounds the encoded size of a command with these writes:
// what Config.MaxCommandBytes is compared with.
func CommandBytes(writes []Write) int {
	size := CommandHeaderBytes
	for i := range writes {
		size += WriteBytes(&writes[i])
	}
	return size
}

func encodeCommand(h commandHeader, cmd *Command) []byte {
	b := make([]byte, 0, CommandBytes(cmd.Writes))
	b = append(b, commandVersion)
	b = binary.AppendUvarint(b, h.nodeID)
	b = binary.AppendUvarint(b, h.seq)
	b = binary.AppendUvarint(b, cmd.EvalTerm)
	b = binary.AppendUvarint(b, uint64(len(cmd.Writes)))
	for i := range cmd.Writes {
		w := &cmd.Writes[i]
		switch {
		case w.End != nil:
			b = append(b, opDeleteRange)
		case w.Delete:
			b = append(b, opDelete)
		default:
			b = append(b, opSet)
		}
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		switch {
		case w.End != nil:
			b = binary.AppendUvarint(b, uint64(len(w.End)))
			b = append(b, w.End...)
		case !w.Delete:
			b = binary.AppendUvarint(b, uint64(len(w.Value)))
			b = append(b, w.Value...)
		}
	}
	return b
}

func encodeLeaseCommand(h commandHeader, req lease.Request) []byte {
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+64)
	b = append(b, leaseCommandVersion)
	b = binary.AppendUvarint(b, h.nodeID)
	b = binary.AppendUvarint(b, h.seq)
	b = binary.AppendUvarint(b, h.evalTerm)
	b = binary.AppendUvarint(b, 0)
	return lease.AppendRequest(b, req)
}

var errBadCommand = &kvpb.CorruptionError{What: "replicated command"}

// decodeHeader decodes the header of an entry's data and returns the rest
// (the writes).
func decodeHeader(data []byte) (commandHeader, []byte, error) {
	if len(data) == 0 || (data[0] != commandVersion && data[0] != leaseCommandVersion) {
		return commandHeader{}, nil, errBadCommand
	}
	isLease := data[0] == leaseCommandVersion
	data = data[1:]
	var vals [4]uint64
	for i := range vals {
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return commandHeader{}, nil, errBadCommand
		}
		vals[i], data = v, data[n:]
	}
	if isLease && vals[3] != 0 {
		return commandHeader{}, nil, errBadCommand
	}
	return commandHeader{nodeID: vals[0], seq: vals[1], evalTerm: vals[2], writes: vals[3], lease: isLease}, data, nil
}

// forEachWrite decodes the writes that follow the header, calling fn for
// each (for a range deletion, value is the range's end); the slices alias
// data. It fails, before calling fn at all, on malformed data or a key
// outside [start, end), so a bad command is never applied partially.
func forEachWrite(h commandHeader, data []byte, start, end []byte, fn func(op byte, key, value []byte) error) error {
	for pass := 0; pass < 2; pass++ {
		rest := data
		for range h.writes {
			if len(rest) == 0 {
				return errBadCommand
			}
			op := rest[0]
			if op != opSet && op != opDelete && op != opDeleteRange {
				return errBadCommand
			}
			key, r, ok := readBytes(rest[1:])
			if !ok {
				return errBadCommand
			}
			var value []byte
			if op != opDelete {
				if value, r, ok = readBytes(r); !ok {
					return errBadCommand
				}
			}
			rest = r
			if pass == 0 {
				var rangeEnd []byte
				if op == opDeleteRange {
					rangeEnd = value
					if rangeEnd == nil {
						rangeEnd = []byte{} // an empty end is below every key: refused
					}
				}
				if err := checkWrite(key, rangeEnd, start, end); err != nil {
					return err
				}
				continue
			}
			if err := fn(op, key, value); err != nil {
				return err
			}
		}
		if len(rest) != 0 {
			return errBadCommand
		}
	}
	return nil
}

func readBytes(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
