package kv

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// TestTxnIDsDistinct: transaction ids come from a generator seeded once
// per DB; every transaction gets its own.
func TestTxnIDsDistinct(t *testing.T) {
	ctx := context.Background()
	seen := map[mvcc.TxnID]bool{}
	for _, db := range []*DB{newEnv(t).db(t, 1, 1), newEnv(t).db(t, 1, 1)} {
		for i := 0; i < 1000; i++ {
			txn, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seen[txn.ID()] || txn.ID() == (mvcc.TxnID{}) {
				t.Fatalf("transaction id %s handed out twice", txn.ID())
			}
			seen[txn.ID()] = true
		}
	}
}

// BenchmarkReadOnlyPointTxn is the kv part of an autocommit point query:
// Begin, the two descriptor keys the schema lease pins (RecordRead), one
// Get and the (read-only) commit, on one partition over in-memory Pebble.
//
//	go test -run '^$' -bench ReadOnlyPointTxn -benchmem ./internal/kv
func BenchmarkReadOnlyPointTxn(b *testing.B) {
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	clock := hlc.NewClock(nil)
	server := kvserver.New(e, clock, &directReplicator{engine: e, failPropose: map[uint64]error{}})
	db := NewDB(Config{Sender: server, Clock: clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	defer db.Close(context.Background())
	ctx := context.Background()
	const rows = 1000
	rowKey := func(i int) []byte { return binary.BigEndian.AppendUint64(kvpb.RowPrefix(1, 1), uint64(i%rows)) }
	load, _ := db.Begin(ctx)
	for i := 0; i < rows; i++ {
		_ = load.Put(rowKey(i), []byte("value"))
	}
	if err := load.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	descKeys := []string{string([]byte{kvpb.SystemTag, 'd', 'b'}), string([]byte{kvpb.SystemTag, 't', 't'})}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		txn, err := db.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range descKeys {
			if err := txn.RecordRead(k); err != nil {
				b.Fatal(err)
			}
		}
		if _, found, err := txn.Get(ctx, rowKey(i)); err != nil || !found {
			b.Fatal(found, err)
		}
		if err := txn.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
