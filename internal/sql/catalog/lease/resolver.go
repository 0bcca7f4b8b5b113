package lease

import (
	"context"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

// Resolver returns the descriptor resolver of a statement running in txn:
// descriptors leased here and valid at txn's read timestamp come from the
// cache (no KV read; the key joins txn's read set, see pin), the others
// through fallback (which reads through txn). A nil Manager, or a txn without
// timestamps, gets fallback itself.
func (m *Manager) Resolver(txn catalog.Txn, fallback catalog.Resolver) catalog.Resolver {
	if m == nil {
		return fallback
	}
	tt, ok := txn.(catalog.TimestampedTxn)
	if !ok {
		return fallback
	}
	v := &view{m: m, txn: tt, readTS: tt.ReadTimestamp(), fallback: fallback}
	v.served = v.servedBuf[:0]
	return v
}

type view struct {
	m        *Manager
	txn      catalog.TimestampedTxn
	readTS   hlc.Timestamp
	fallback catalog.Resolver
	// served: the entries handed out (in servedBuf while they fit: a
	// statement uses a database and a table or two).
	served    []*entry
	servedBuf [4]*entry
}

// keyBufLen sizes the stack buffer descriptor keys are built in for a
// lookup; longer names spill to the heap.
const keyBufLen = 64

// Verify checks, after a statement resolved descriptors through r (a
// Resolver of this package; anything else passes), that the descriptors it
// served from the cache are still valid: a read in the uncertainty window
// moves a transaction's read timestamp up while the statement runs, and
// the copy served was only known valid at the start. When the read
// timestamp moved, each is read again through the transaction (which also
// pins it from then on); a descriptor that changed in between fails the
// statement with a retryable error.
func Verify(ctx context.Context, r catalog.Resolver) error {
	v, ok := r.(*view)
	if !ok || len(v.served) == 0 || v.txn.ReadTimestamp() == v.readTS {
		return nil
	}
	for _, e := range v.served {
		b, found, err := v.txn.Get(ctx, []byte(e.key))
		if err != nil {
			return err
		}
		if !found || string(b) != string(e.bytes) {
			return &kvpb.ConflictError{Reason: fmt.Sprintf("descriptor %q changed while the statement ran (its read timestamp moved from %s to %s)", e.key, v.readTS, v.txn.ReadTimestamp())}
		}
	}
	return nil
}

func (v *view) GetDatabase(ctx context.Context, kv catalog.KV, name string) (*catalog.DatabaseDesc, error) {
	db, err := v.GetDatabaseShared(ctx, kv, name)
	if err != nil || db == nil {
		return db, err
	}
	c := *db
	return &c, nil
}

// GetDatabaseShared is GetDatabase without the copy
// (catalog.SharedResolver): the cached descriptor, not to be modified.
func (v *view) GetDatabaseShared(ctx context.Context, kv catalog.KV, name string) (*catalog.DatabaseDesc, error) {
	if name != "" {
		var buf [keyBufLen]byte
		if e := v.m.lookup(catalog.AppendDatabaseKey(buf[:0], name), v.readTS); e != nil && e.db != nil && v.pin(e) {
			return e.db, nil
		}
	}
	return v.fallback.GetDatabase(ctx, kv, name)
}

func (v *view) GetTable(ctx context.Context, kv catalog.KV, dbID uint32, name string) (*catalog.TableDesc, error) {
	var buf [keyBufLen]byte
	if e := v.m.lookup(catalog.AppendTableKey(buf[:0], dbID, name), v.readTS); e != nil && e.table != nil && v.pin(e) {
		return e.table.Clone(), nil
	}
	return v.fallback.GetTable(ctx, kv, dbID, name)
}

// GetTableShared is GetTable without the copy (catalog.SharedResolver):
// the cached descriptor itself, which the caller must not modify.
func (v *view) GetTableShared(ctx context.Context, kv catalog.KV, dbID uint32, name string) (*catalog.TableDesc, error) {
	var buf [keyBufLen]byte
	if e := v.m.lookup(catalog.AppendTableKey(buf[:0], dbID, name), v.readTS); e != nil && e.table != nil && v.pin(e) {
		return e.table, nil
	}
	return v.fallback.GetTable(ctx, kv, dbID, name)
}

// pin records that the statement used e: its key joins the transaction's
// read set as if read at the read timestamp (where the lease says e is the
// descriptor), so a transaction that writes conflicts with a change of it
// committed before its own commit, exactly as if it had read it.
func (v *view) pin(e *entry) bool {
	if err := v.txn.RecordRead(e.key); err != nil {
		return false
	}
	v.served = append(v.served, e)
	return true
}
