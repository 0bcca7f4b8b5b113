package server

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// sqlDB adapts *kv.DB to the catalog.DB interface the SQL layer declares.
type sqlDB struct{ db *kv.DB }

func (d sqlDB) Begin(ctx context.Context) (catalog.Txn, error) {
	t, err := d.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return sqlTxn{t}, nil
}

// Now reads the clock of the transactions' timestamps (catalog.ClockedDB:
// the schema lease manager needs it).
func (d sqlDB) Now() hlc.Timestamp { return d.db.Clock().Now() }

// ClearSpan implements catalog.SpanClearer (a dropped table's data).
func (d sqlDB) ClearSpan(ctx context.Context, start, end []byte, notBelow hlc.Timestamp) error {
	return d.db.ClearSpan(ctx, start, end, notBelow)
}

type sqlTxn struct{ *kv.Txn }

var _ catalog.TimestampedTxn = sqlTxn{}

func (t sqlTxn) Scan(ctx context.Context, start, end []byte, reverse bool) catalog.Iterator {
	return t.Txn.Scan(ctx, start, end, reverse)
}

var incarnationKey = storage.LocalKey("incarnation")

// nextIncarnation increments and durably stores the node's incarnation
// (epoch) counter. Intents carry it, so that after a restart everyone can
// tell the previous incarnation's transactions are dead.
func nextIncarnation(e *storage.Engine) (uint64, error) {
	var epoch uint64
	v, found, err := e.Get(incarnationKey)
	if err != nil {
		return 0, err
	}
	if found {
		if len(v) != 8 {
			return 0, fmt.Errorf("server: corrupt incarnation record (%d bytes)", len(v))
		}
		epoch = binary.BigEndian.Uint64(v)
	}
	epoch++
	b := e.NewBatch()
	defer b.Close()
	if err := b.Set(incarnationKey, binary.BigEndian.AppendUint64(nil, epoch)); err != nil {
		return 0, err
	}
	return epoch, b.Commit(true)
}

var _ catalog.ParallelScanner = sqlTxn{}

func (t sqlTxn) ScanValuesParallel(ctx context.Context, start, end []byte, opts catalog.ParallelScan, visit func(piece int, value []byte) error) (bool, error) {
	return t.Txn.ScanValuesParallel(ctx, start, end,
		kv.ParallelScanOptions{Workers: opts.Workers, Pieces: opts.Pieces, BatchBytes: opts.BatchBytes}, visit)
}
