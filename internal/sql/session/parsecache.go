package session

import (
	"container/list"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// parseKey is what a parse depends on: the text and the lexical dialect.
type parseKey struct {
	sql  string
	opts parser.Options
}

// parseCache maps SQL text (in a dialect) to its parsed statement, expiring entries after
// ttl and evicting the least recently used beyond maxEntries (0:
// unbounded). A ttl of 0 disables the cache. Cached statements are shared
// by concurrent executions: nothing downstream may modify an AST.
type parseCache struct {
	ttl        time.Duration
	maxEntries int
	now        func() time.Time

	mu struct {
		sync.Mutex
		entries map[parseKey]*list.Element
		lru     *list.List // front = most recently used; values are *cacheEntry
	}
}

type cacheEntry struct {
	key     parseKey
	stmt    ast.Statement
	expires time.Time
}

func newParseCache(ttl time.Duration, maxEntries int, now func() time.Time) *parseCache {
	c := &parseCache{ttl: ttl, maxEntries: maxEntries, now: now}
	c.mu.entries = map[parseKey]*list.Element{}
	c.mu.lru = list.New()
	return c
}

func (c *parseCache) get(key parseKey) (ast.Statement, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.mu.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.removeLocked(el)
		return nil, false
	}
	c.mu.lru.MoveToFront(el)
	return e.stmt, true
}

func (c *parseCache) put(key parseKey, stmt ast.Statement) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.mu.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		e.stmt, e.expires = stmt, expires
		c.mu.lru.MoveToFront(el)
		return
	}
	c.mu.entries[key] = c.mu.lru.PushFront(&cacheEntry{key: key, stmt: stmt, expires: expires})
	for c.maxEntries > 0 && c.mu.lru.Len() > c.maxEntries {
		c.removeLocked(c.mu.lru.Back())
	}
}

func (c *parseCache) removeLocked(el *list.Element) {
	c.mu.lru.Remove(el)
	delete(c.mu.entries, el.Value.(*cacheEntry).key)
}

func (c *parseCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}
