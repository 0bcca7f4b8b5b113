package jobs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Status is a job's state.
type Status string

const (
	Running   Status = "running"   // a node runs it (or will adopt it)
	Paused    Status = "paused"    // PAUSE JOB: no node runs it until RESUME JOB
	Reverting Status = "reverting" // failed or cancelled: a node undoes what it did
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Canceled  Status = "canceled"
)

// Finished reports whether s is final.
func (s Status) Finished() bool { return s == Succeeded || s == Failed || s == Canceled }

// Record is a job as stored in the jobs table: one system-bucket key per
// job, 's' '~' 'J' id(u64) -> a format byte and JSON. Times are Unix
// nanoseconds of the node's wall clock (0: not yet).
type Record struct {
	ID          uint64  `json:"id"`
	Type        string  `json:"type"`
	Description string  `json:"description"`
	User        string  `json:"user"`
	Status      Status  `json:"status"`
	Fraction    float64 `json:"fraction"`
	Rows        int64   `json:"rows"`
	Created     int64   `json:"created"`
	Started     int64   `json:"started,omitempty"`
	Finished    int64   `json:"finished,omitempty"`
	// Error and ErrorCode: why it failed (the statement waiting for it
	// reports them).
	Error     string `json:"error,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	// CancelRequested: CANCEL JOB asked for the revert (as opposed to a
	// failure).
	CancelRequested bool `json:"cancelRequested,omitempty"`
	// Payload is what the job does (set at creation), Progress its
	// checkpoint (set by the job as it goes).
	Payload  json.RawMessage `json:"payload,omitempty"`
	Progress json.RawMessage `json:"progress,omitempty"`
	// ClaimNode runs it until ClaimExpires (wall nanoseconds); a runner
	// that stops renewing lets another node adopt it.
	ClaimNode    uint64 `json:"claimNode,omitempty"`
	ClaimExpires int64  `json:"claimExpires,omitempty"`
}

var (
	jobsPrefix = []byte{kvpb.SystemTag, '~', 'J'}
	counterKey = []byte{kvpb.SystemTag, '~', 'j'}
)

const recordFormat byte = 1

func jobKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), jobsPrefix...), id)
}

func encode(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, errcode.Wrap(errcode.Internal, err)
	}
	return append([]byte{recordFormat}, b...), nil
}

// decode decodes a stored record; CADB0014 for bytes that are not one.
func decode(b []byte) (*Record, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return nil, errcode.New(errcode.Corruption, "job record has an unknown format")
	}
	var r Record
	if err := json.Unmarshal(b[1:], &r); err != nil {
		return nil, errcode.New(errcode.Corruption, "job record: %v", err)
	}
	return &r, nil
}

func put(kv catalog.KV, r *Record) error {
	b, err := encode(r)
	if err != nil {
		return err
	}
	return kv.Put(jobKey(r.ID), b)
}

// load reads job id through kv; CADB0030 when there is none.
func load(ctx context.Context, kv catalog.KV, id uint64) (*Record, error) {
	b, found, err := kv.Get(ctx, jobKey(id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errcode.New(errcode.UnknownJob, "job %d does not exist", id)
	}
	return decode(b)
}

// nextID allocates a job id from the counter.
func nextID(ctx context.Context, kv catalog.KV) (uint64, error) {
	b, found, err := kv.Get(ctx, counterKey)
	if err != nil {
		return 0, err
	}
	var last uint64
	if found {
		if len(b) != 8 {
			return 0, errcode.New(errcode.Corruption, "job id counter has %d bytes", len(b))
		}
		last = binary.BigEndian.Uint64(b)
	}
	return last + 1, kv.Put(counterKey, binary.BigEndian.AppendUint64(nil, last+1))
}

// list reads every job through kv, newest first.
func list(ctx context.Context, kv catalog.KV) ([]*Record, error) {
	it := kv.Scan(ctx, jobsPrefix, kvpb.PrefixEnd(jobsPrefix), false)
	defer it.Close()
	var out []*Record
	for it.Next(ctx) {
		r, err := decode(it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}
