package catalog

import (
	"context"
	"sync"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DecodeCache remembers decoded descriptors by their stored bytes. It is
// not a descriptor cache: every statement still reads the descriptor inside
// its transaction (one point Get), so it sees exactly what the transaction
// sees and conflicts like any read; only the JSON decoding is skipped when
// the bytes are ones decoded before. Safe for concurrent use; a nil
// *DecodeCache decodes every time.
type DecodeCache struct {
	max int
	mu  struct {
		sync.Mutex
		tables    map[string]*TableDesc
		databases map[string]*DatabaseDesc
	}
}

// NewDecodeCache returns a cache holding up to maxEntries descriptors of
// each kind (it starts over when full).
func NewDecodeCache(maxEntries int) *DecodeCache {
	c := &DecodeCache{max: max(maxEntries, 1)}
	c.mu.tables = map[string]*TableDesc{}
	c.mu.databases = map[string]*DatabaseDesc{}
	return c
}

func (c *DecodeCache) decodeTable(b []byte) (*TableDesc, error) {
	if c != nil {
		c.mu.Lock()
		t, ok := c.mu.tables[string(b)]
		c.mu.Unlock()
		if ok {
			return t.Clone(), nil
		}
	}
	var t TableDesc
	if err := decodeDescriptor(b, "table", &t); err != nil {
		return nil, err
	}
	t.normalize()
	if c != nil {
		c.mu.Lock()
		if len(c.mu.tables) >= c.max {
			clear(c.mu.tables)
		}
		c.mu.tables[string(b)] = t.Clone()
		c.mu.Unlock()
	}
	return &t, nil
}

func (c *DecodeCache) decodeDatabase(b []byte) (*DatabaseDesc, error) {
	if c != nil {
		c.mu.Lock()
		db, ok := c.mu.databases[string(b)]
		c.mu.Unlock()
		if ok {
			copied := *db
			return &copied, nil
		}
	}
	var db DatabaseDesc
	if err := decodeDescriptor(b, "database", &db); err != nil {
		return nil, err
	}
	if c != nil {
		c.mu.Lock()
		if len(c.mu.databases) >= c.max {
			clear(c.mu.databases)
		}
		copied := db
		c.mu.databases[string(b)] = &copied
		c.mu.Unlock()
	}
	return &db, nil
}

// DecodeTable decodes stored table descriptor bytes (through the cache);
// the result is the caller's.
func (c *DecodeCache) DecodeTable(b []byte) (*TableDesc, error) { return c.decodeTable(b) }

// DecodeDatabase decodes stored database descriptor bytes (through the
// cache); the result is the caller's.
func (c *DecodeCache) DecodeDatabase(b []byte) (*DatabaseDesc, error) { return c.decodeDatabase(b) }

// GetDatabase is catalog.GetDatabase decoding through the cache.
func (c *DecodeCache) GetDatabase(ctx context.Context, kv KV, name string) (*DatabaseDesc, error) {
	if name == "" {
		return nil, errcode.New(errcode.UnknownDatabase, "no database selected")
	}
	b, found, err := kv.Get(ctx, databaseKey(name))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errcode.New(errcode.UnknownDatabase, "database %q does not exist", name)
	}
	return c.decodeDatabase(b)
}

// LookupTable is catalog.LookupTable decoding through the cache.
func (c *DecodeCache) LookupTable(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error) {
	b, found, err := kv.Get(ctx, tableKey(dbID, name))
	if err != nil || !found {
		return nil, err
	}
	t, err := c.decodeTable(b)
	if err != nil {
		return nil, err
	}
	if t.DBID != dbID || t.Name != name {
		return nil, errcode.New(errcode.Corruption, "table descriptor for %q names %d/%q", name, t.DBID, t.Name)
	}
	return t, nil
}

// GetTable is catalog.GetTable decoding through the cache.
func (c *DecodeCache) GetTable(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error) {
	t, err := c.LookupTable(ctx, kv, dbID, name)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errcode.New(errcode.UnknownTable, "table %q does not exist", name)
	}
	return t, nil
}
