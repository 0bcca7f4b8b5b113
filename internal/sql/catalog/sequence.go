package catalog

import (
	"context"
	"encoding/binary"
	"math"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// A sequence is a TableDesc whose Sequence is set: it shares the name space
// of tables and views (as PostgreSQL's relations do), takes its id from the
// table counter and shows the columns PostgreSQL gives a sequence
// (last_value, log_cnt, is_called). It has no rows: its state is one KV
// entry of its own,
//
//	's' 'q' dbID(u32) seqID(u32) -> SequenceState
//
// kept apart from the descriptor so that nextval, which runs in a small
// transaction of its own (never the caller's: a rolled back transaction
// does not give its values back), reads and writes one key and never
// conflicts with readers of the descriptor. The state repeats the options
// nextval needs, so allocating reads nothing else; DDL that changes them
// (ALTER SEQUENCE) rewrites both in its transaction.
const sequenceTag byte = 'q'

// SequenceStateKey is the key of the state of sequence id of database dbID.
func SequenceStateKey(dbID, id uint32) []byte {
	k := binary.BigEndian.AppendUint32([]byte{kvpb.SystemTag, sequenceTag}, dbID)
	return binary.BigEndian.AppendUint32(k, id)
}

// SequenceDesc is the definition of a sequence (CREATE SEQUENCE options).
type SequenceDesc struct {
	// Width is the bit width of the sequence's type: 16 (SMALLINT), 32
	// (INTEGER) or 64 (BIGINT, the default).
	Width     uint8 `json:"width"`
	Increment int64 `json:"increment"`
	Min       int64 `json:"min"`
	Max       int64 `json:"max"`
	Start     int64 `json:"start"`
	// Cache is how many values a node allocates at once (1: every nextval
	// is a transaction).
	Cache int64 `json:"cache"`
	Cycle bool  `json:"cycle,omitempty"`
	// OwnerTable and OwnerColumn (ids) name the column that owns the
	// sequence (SERIAL, identity, OWNED BY); 0 when none. Dropping the
	// table drops the sequence.
	OwnerTable  uint32 `json:"ownerTable,omitempty"`
	OwnerColumn uint32 `json:"ownerColumn,omitempty"`
}

// MaxSequenceCache bounds CACHE: a block is allocated in one transaction.
const MaxSequenceCache = 1 << 16

// TypeBounds returns the smallest and largest value of an integer of width
// bits (0 is 64).
func TypeBounds(width uint8) (int64, int64) {
	switch width {
	case 16:
		return math.MinInt16, math.MaxInt16
	case 32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// SequenceOptions are the options of CREATE/ALTER SEQUENCE as given; nil
// fields were not given. NoMin/NoMax are NO MINVALUE / NO MAXVALUE.
type SequenceOptions struct {
	Width        *uint8
	Increment    *int64
	Min, Max     *int64
	NoMin, NoMax bool
	Start        *int64
	Cache        *int64
	Cycle        *bool
}

// ApplySequenceOptions returns d changed by o (d nil: a new sequence with
// PostgreSQL's defaults). Bounds not given follow the type and the sign of
// the increment; the result is validated (CADB0435).
func ApplySequenceOptions(d *SequenceDesc, o SequenceOptions) (*SequenceDesc, error) {
	var out SequenceDesc
	isNew := d == nil
	if isNew {
		out = SequenceDesc{Width: 64, Increment: 1, Cache: 1}
	} else {
		out = *d
	}
	oldLo, oldHi := TypeBounds(out.Width)
	if o.Width != nil {
		out.Width = *o.Width
	}
	if o.Increment != nil {
		out.Increment = *o.Increment
	}
	if out.Increment == 0 {
		return nil, errcode.New(errcode.InvalidSequence, "INCREMENT must not be zero")
	}
	lo, hi := TypeBounds(out.Width)
	// A bound left at its default (or set NO ...) follows the type and the
	// increment's direction, as in PostgreSQL.
	defaultMin := isNew || o.NoMin || (o.Width != nil && (out.Min == oldLo || out.Min == 1 && d.Increment > 0))
	defaultMax := isNew || o.NoMax || (o.Width != nil && (out.Max == oldHi || out.Max == -1 && d.Increment < 0))
	if o.Min != nil {
		out.Min, defaultMin = *o.Min, false
	}
	if o.Max != nil {
		out.Max, defaultMax = *o.Max, false
	}
	if defaultMin {
		out.Min = lo
		if out.Increment > 0 {
			out.Min = 1
		}
	}
	if defaultMax {
		out.Max = hi
		if out.Increment < 0 {
			out.Max = -1
		}
	}
	if out.Min < lo || out.Max > hi {
		return nil, errcode.New(errcode.InvalidSequence, "MINVALUE (%d) and MAXVALUE (%d) must be within the sequence's type (%d..%d)", out.Min, out.Max, lo, hi)
	}
	if out.Min >= out.Max {
		return nil, errcode.New(errcode.InvalidSequence, "MINVALUE (%d) must be less than MAXVALUE (%d)", out.Min, out.Max)
	}
	switch {
	case o.Start != nil:
		out.Start = *o.Start
	case isNew && out.Increment > 0:
		out.Start = out.Min
	case isNew:
		out.Start = out.Max
	}
	if out.Start < out.Min || out.Start > out.Max {
		return nil, errcode.New(errcode.InvalidSequence, "START value (%d) must be between MINVALUE (%d) and MAXVALUE (%d)", out.Start, out.Min, out.Max)
	}
	if o.Cache != nil {
		out.Cache = *o.Cache
	}
	if out.Cache < 1 || out.Cache > MaxSequenceCache {
		return nil, errcode.New(errcode.InvalidSequence, "CACHE (%d) must be between 1 and %d", out.Cache, MaxSequenceCache)
	}
	if o.Cycle != nil {
		out.Cycle = *o.Cycle
	}
	return &out, nil
}

// SequenceColumns are the columns a sequence shows when read as a relation.
var SequenceColumns = []ColumnDesc{
	{ID: 1, Name: "last_value", Kind: types.Int64, NotNull: true},
	{ID: 2, Name: "log_cnt", Kind: types.Int64, NotNull: true},
	{ID: 3, Name: "is_called", Kind: types.Bool, NotNull: true},
}

// NewSequenceTable returns the descriptor of a new sequence (ids are left
// for CreateSequence).
func NewSequenceTable(dbID uint32, name string, d *SequenceDesc) *TableDesc {
	return &TableDesc{DBID: dbID, Name: name, Columns: append([]ColumnDesc(nil), SequenceColumns...),
		PrimaryKey:   IndexDesc{ID: PrimaryIndexID, Name: PrimaryIndexName, Unique: true, Columns: []IndexColumn{{ColumnID: 1}}},
		NextColumnID: 4, NextIndexID: PrimaryIndexID + 1, Sequence: d}
}

// SequenceState is a sequence's current value: the last value handed out
// (Called) or the value the next nextval returns (not Called: after CREATE,
// RESTART or setval(..., false)), with the options allocation needs.
type SequenceState struct {
	Last      int64
	Called    bool
	Increment int64
	Min, Max  int64
	Cycle     bool
}

const sequenceStateFormat byte = 1

func (s *SequenceState) encode() []byte {
	b := []byte{sequenceStateFormat}
	for _, v := range []int64{s.Last, s.Increment, s.Min, s.Max} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	var flags byte
	if s.Called {
		flags |= 1
	}
	if s.Cycle {
		flags |= 2
	}
	return append(b, flags)
}

func decodeSequenceState(b []byte) (SequenceState, error) {
	if len(b) != 34 || b[0] != sequenceStateFormat {
		return SequenceState{}, errcode.New(errcode.Corruption, "sequence state has %d bytes (format %v)", len(b), b[:min(len(b), 1)])
	}
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[1+8*i:])) }
	return SequenceState{Last: v(0), Increment: v(1), Min: v(2), Max: v(3), Called: b[33]&1 != 0, Cycle: b[33]&2 != 0}, nil
}

// StateFor returns the state of a sequence of definition d restarted at
// value (the next nextval returns it).
func StateFor(d *SequenceDesc, value int64) SequenceState {
	return SequenceState{Last: value, Increment: d.Increment, Min: d.Min, Max: d.Max, Cycle: d.Cycle}
}

// Next advances s and returns the value nextval hands out; CADB0433 when
// the sequence is exhausted and does not cycle (s is then unchanged).
func (s *SequenceState) Next(name string) (int64, error) {
	if !s.Called {
		s.Called = true
		return s.Last, nil
	}
	next, overflow := s.Last+s.Increment, false
	if (s.Increment > 0 && next < s.Last) || (s.Increment < 0 && next > s.Last) {
		overflow = true
	}
	switch {
	case s.Increment > 0 && (overflow || next > s.Max):
		if !s.Cycle {
			return 0, errcode.New(errcode.SequenceExhausted, "nextval: reached maximum value of sequence %q (%d)", name, s.Max)
		}
		next = s.Min
	case s.Increment < 0 && (overflow || next < s.Min):
		if !s.Cycle {
			return 0, errcode.New(errcode.SequenceExhausted, "nextval: reached minimum value of sequence %q (%d)", name, s.Min)
		}
		next = s.Max
	}
	s.Last = next
	return next, nil
}

// GetSequenceState reads the state of sequence id; found=false when it
// has none (dropped, or created by a transaction not yet committed).
func GetSequenceState(ctx context.Context, kv KV, dbID, id uint32) (SequenceState, bool, error) {
	b, found, err := kv.Get(ctx, SequenceStateKey(dbID, id))
	if err != nil || !found {
		return SequenceState{}, false, err
	}
	s, err := decodeSequenceState(b)
	return s, err == nil, err
}

// PutSequenceState writes the state of sequence id.
func PutSequenceState(kv KV, dbID, id uint32, s SequenceState) error {
	return kv.Put(SequenceStateKey(dbID, id), s.encode())
}

// AllocateSequence hands out up to count values of sequence t in kv
// (the caller's allocation transaction): the values in order, fewer than
// count when the sequence runs out on the way (none: CADB0433).
func AllocateSequence(ctx context.Context, kv KV, t *TableDesc, count int64) ([]int64, error) {
	s, found, err := GetSequenceState(ctx, kv, t.DBID, t.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errcode.New(errcode.UnknownTable, "sequence %q does not exist", t.Name)
	}
	out := make([]int64, 0, count)
	for int64(len(out)) < count {
		v, err := s.Next(t.Name)
		if err != nil {
			if len(out) > 0 {
				break
			}
			return nil, err
		}
		out = append(out, v)
	}
	return out, PutSequenceState(kv, t.DBID, t.ID, s)
}

// CreateSequence stores a new sequence (descriptor and state) in kv; like
// CreateTable it assigns the id and fails when the name is taken.
func CreateSequence(ctx context.Context, kv KV, t *TableDesc) error {
	if t.Sequence == nil {
		return errcode.New(errcode.Internal, "CreateSequence of %q without a sequence definition", t.Name)
	}
	if err := CreateTable(ctx, kv, t); err != nil {
		return err
	}
	return PutSequenceState(kv, t.DBID, t.ID, StateFor(t.Sequence, t.Sequence.Start))
}

// DropSequence removes a sequence's descriptor and state.
func DropSequence(ctx context.Context, kv KV, t *TableDesc) error {
	if err := DropTableDescriptor(ctx, kv, t); err != nil {
		return err
	}
	return kv.Delete(SequenceStateKey(t.DBID, t.ID))
}

// OwnedSequences returns the sequences of tables that t owns (every one
// owned by any column when column is 0).
func OwnedSequences(tables []*TableDesc, t *TableDesc, column uint32) []*TableDesc {
	var out []*TableDesc
	for _, s := range tables {
		if s.Sequence != nil && s.Sequence.OwnerTable == t.ID && s.Sequence.OwnerTable != 0 &&
			(column == 0 || s.Sequence.OwnerColumn == column) {
			out = append(out, s)
		}
	}
	return out
}
