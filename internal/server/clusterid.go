package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// The cluster id names one cluster for its lifetime: a node whose data
// directory belongs to another cluster (a copied or stale directory, a
// peer list pointing at the wrong machines) is refused by the others
// instead of mixing two clusters' Raft logs.
//
// It is decided once, through the cluster itself: the first node to find
// the replicated key empty writes a random id in a transaction (so exactly
// one id wins), and every node keeps a copy in its engine's local
// (unreplicated) keys, loaded before the node talks to anyone at its next
// start. A node that knows an id stamps it on every node-to-node call and
// refuses calls that name another (internal/rpc/clusterid.go); a node that
// finds the cluster's id differs from its own copy stops.
var (
	clusterIDKey      = append(append([]byte(nil), kvpb.SystemPrefix...), '~', 'C')
	localClusterIDKey = storage.LocalKey("cluster/id")
)

// loadClusterID gives the network the id this node's engine remembers.
func (cn *clusterNode) loadClusterID(engine *storage.Engine) error {
	v, found, err := engine.Get(localClusterIDKey)
	if err != nil {
		return fmt.Errorf("server: reading the cluster id: %w", err)
	}
	if found {
		cn.net.SetClusterID(string(v))
	}
	return nil
}

// establishClusterID learns (or, first of all, decides) the cluster's id
// and persists it; it retries until ctx ends. A node whose stored id
// differs from the cluster's is stopped through fail.
func (cn *clusterNode) establishClusterID(ctx context.Context, db *kv.DB, engine *storage.Engine, fail func(error)) {
	for attempt := 0; ; attempt++ {
		var id string
		err := db.RunTxn(ctx, 10, func(txn *kv.Txn) error {
			v, found, err := txn.Get(ctx, clusterIDKey)
			if err != nil {
				return err
			}
			if found {
				id = string(v)
				return nil
			}
			var raw [16]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return err
			}
			id = hex.EncodeToString(raw[:])
			return txn.Put(clusterIDKey, []byte(id))
		})
		if err == nil {
			cn.adoptClusterID(id, engine, fail)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
}

func (cn *clusterNode) adoptClusterID(id string, engine *storage.Engine, fail func(error)) {
	switch known := cn.net.ClusterID(); {
	case known == id:
		return
	case known != "":
		fail(fmt.Errorf("server: this node's data directory belongs to cluster %s, but the nodes it joined form cluster %s; stopping (give it an empty data_dir to join as a new member)", known, id))
		return
	}
	b := engine.NewBatch()
	defer b.Close()
	if err := b.Set(localClusterIDKey, []byte(id)); err != nil {
		fail(fmt.Errorf("server: persisting the cluster id: %w", err))
		return
	}
	if err := b.Commit(true); err != nil {
		fail(fmt.Errorf("server: persisting the cluster id: %w", err))
		return
	}
	cn.net.SetClusterID(id)
}
