package mvcc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// ErrBadValue reports stored bytes that do not decode.
var ErrBadValue = errors.New("mvcc: malformed value")

const (
	versionValueTag byte = 'v'
	versionDelTag   byte = 'd'
	intentTag       byte = 'i'
	recordTag       byte = 'r'
)

func encodeVersion(value []byte, deleted bool) []byte {
	if deleted {
		return []byte{versionDelTag}
	}
	b := make([]byte, 1+len(value))
	b[0] = versionValueTag
	copy(b[1:], value)
	return b
}

// decodeVersion returns the value (aliasing b) or deleted=true.
func decodeVersion(b []byte) (value []byte, deleted bool, err error) {
	if len(b) == 0 {
		return nil, false, ErrBadValue
	}
	switch b[0] {
	case versionValueTag:
		return b[1:], false, nil
	case versionDelTag:
		return nil, true, nil
	}
	return nil, false, ErrBadValue
}

// Intent is a provisional write of a transaction that is being committed
// across several partitions. Its final timestamp is >= TS.
type Intent struct {
	TxnID TxnID
	TS    hlc.Timestamp // provisional (prepare) timestamp
	// Home is the partition holding the transaction record.
	Home uint64
	// CoordNode and CoordEpoch identify the coordinating node incarnation;
	// a different epoch for the same node means the coordinator restarted
	// and the transaction can be aborted by anyone.
	CoordNode, CoordEpoch uint64
	// WriteWall is the coordinator's wall time when the intent was laid.
	WriteWall int64
	// Priority orders transactions for pushes: the wall time the
	// transaction began (smaller = older = wins).
	Priority int64
	Deleted  bool
	Value    []byte
}

func encodeIntent(in *Intent) []byte {
	b := make([]byte, 0, 1+TxnIDLen+hlc.EncodedLen+3*binary.MaxVarintLen64+16+1+len(in.Value))
	b = append(b, intentTag)
	b = append(b, in.TxnID[:]...)
	b = in.TS.AppendEncode(b)
	b = binary.AppendUvarint(b, in.Home)
	b = binary.AppendUvarint(b, in.CoordNode)
	b = binary.AppendUvarint(b, in.CoordEpoch)
	b = binary.BigEndian.AppendUint64(b, uint64(in.WriteWall))
	b = binary.BigEndian.AppendUint64(b, uint64(in.Priority))
	if in.Deleted {
		return append(b, 1)
	}
	b = append(b, 0)
	return append(b, in.Value...)
}

func decodeIntent(b []byte) (*Intent, error) {
	if len(b) < 1+TxnIDLen+hlc.EncodedLen || b[0] != intentTag {
		return nil, ErrBadValue
	}
	in := &Intent{}
	b = b[1:]
	copy(in.TxnID[:], b)
	b = b[TxnIDLen:]
	in.TS, _ = hlc.Decode(b)
	b = b[hlc.EncodedLen:]
	for _, dst := range []*uint64{&in.Home, &in.CoordNode, &in.CoordEpoch} {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, ErrBadValue
		}
		*dst = v
		b = b[n:]
	}
	if len(b) < 17 {
		return nil, ErrBadValue
	}
	in.WriteWall = int64(binary.BigEndian.Uint64(b))
	in.Priority = int64(binary.BigEndian.Uint64(b[8:]))
	in.Deleted = b[16] == 1
	if !in.Deleted {
		in.Value = append([]byte(nil), b[17:]...)
	}
	return in, nil
}

// TxnStatus is the state of a transaction record.
type TxnStatus byte

const (
	// TxnPending: no record, or a record that is not final.
	TxnPending TxnStatus = 0
	// TxnCommitted: the commit point has passed; CommitTS is final.
	TxnCommitted TxnStatus = 1
	// TxnAborted: the transaction can never commit.
	TxnAborted TxnStatus = 2
)

func (s TxnStatus) String() string {
	switch s {
	case TxnCommitted:
		return "COMMITTED"
	case TxnAborted:
		return "ABORTED"
	}
	return "PENDING"
}

// TxnRecord is the durable outcome of a multi-partition transaction.
type TxnRecord struct {
	Status   TxnStatus
	CommitTS hlc.Timestamp
	// Participants are the partitions holding the transaction's intents.
	Participants []uint64
	// StartWall is the wall time of the transaction's read timestamp, when
	// known (ABORTED records written by others: from the intent's
	// Priority). Garbage collection deletes an ABORTED record once it is
	// below the GC threshold, where the transaction can no longer commit.
	StartWall int64
	// Locks, in a COMMITTED record, are the keys of the transaction's
	// intents per participant other than the home partition (whose writes
	// commit with the record), so that the record can be cleaned up —
	// intents resolved, then the record deleted — even when the
	// coordinator died before doing it. Nil when the transaction wrote too
	// many keys to list (then readers resolve what they meet and the
	// record stays).
	Locks map[uint64][][]byte
}

// locksTag starts the optional Locks section of a record.
const locksTag byte = 'L'

// EncodeTxnRecord encodes a record value.
func EncodeTxnRecord(r *TxnRecord) []byte {
	b := []byte{recordTag, byte(r.Status)}
	b = r.CommitTS.AppendEncode(b)
	b = binary.AppendUvarint(b, uint64(len(r.Participants)))
	for _, p := range r.Participants {
		b = binary.AppendUvarint(b, p)
	}
	if r.StartWall != 0 || r.Locks != nil {
		b = binary.AppendVarint(b, r.StartWall)
	}
	if r.Locks != nil {
		b = append(b, locksTag)
		b = binary.AppendUvarint(b, uint64(len(r.Locks)))
		parts := make([]uint64, 0, len(r.Locks))
		for p := range r.Locks {
			parts = append(parts, p)
		}
		slices.Sort(parts) // one encoding for one record
		for _, p := range parts {
			keys := r.Locks[p]
			b = binary.AppendUvarint(b, p)
			b = binary.AppendUvarint(b, uint64(len(keys)))
			for _, k := range keys {
				b = binary.AppendUvarint(b, uint64(len(k)))
				b = append(b, k...)
			}
		}
	}
	return b
}

// DecodeTxnRecord decodes a record value.
func DecodeTxnRecord(b []byte) (*TxnRecord, error) {
	if len(b) < 2+hlc.EncodedLen || b[0] != recordTag {
		return nil, ErrBadValue
	}
	r := &TxnRecord{Status: TxnStatus(b[1])}
	if r.Status > TxnAborted {
		return nil, fmt.Errorf("%w: status %d", ErrBadValue, b[1])
	}
	r.CommitTS, _ = hlc.Decode(b[2:])
	b = b[2+hlc.EncodedLen:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, ErrBadValue
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		p, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, ErrBadValue
		}
		r.Participants = append(r.Participants, p)
		b = b[k:]
	}
	if len(b) > 0 { // optional: StartWall
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, ErrBadValue
		}
		r.StartWall = v
		b = b[k:]
	}
	if len(b) > 0 { // optional: Locks
		if b[0] != locksTag {
			return nil, ErrBadValue
		}
		locks, err := decodeLocks(b[1:])
		if err != nil {
			return nil, err
		}
		r.Locks = locks
	}
	return r, nil
}

func decodeLocks(b []byte) (map[uint64][][]byte, error) {
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	n, ok := uv()
	if !ok || n > uint64(len(b)) {
		return nil, ErrBadValue
	}
	locks := make(map[uint64][][]byte, n)
	for i := uint64(0); i < n; i++ {
		p, ok1 := uv()
		nk, ok2 := uv()
		if !ok1 || !ok2 || nk > uint64(len(b)) {
			return nil, ErrBadValue
		}
		keys := make([][]byte, 0, nk)
		for j := uint64(0); j < nk; j++ {
			l, ok := uv()
			if !ok || l > uint64(len(b)) {
				return nil, ErrBadValue
			}
			keys = append(keys, append([]byte(nil), b[:l]...))
			b = b[l:]
		}
		locks[p] = keys
	}
	if len(b) != 0 {
		return nil, ErrBadValue
	}
	return locks, nil
}
