package parser

import (
	"container/list"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// Cache memoises Parse by statement text (SPEC §1.1
// sql_parser_cache_ttl_seconds / sql_parser_cache_max_entries). Only
// successful parses are kept. It is safe for concurrent use.
//
// The statements it returns are shared between callers: they must be
// treated as read-only (the planner binds into its own structures, never
// into the AST).
type Cache struct {
	ttl        time.Duration // 0 disables the cache
	maxEntries int           // 0 = unbounded
	now        func() time.Time

	mu struct {
		sync.Mutex
		entries map[string]*list.Element // text → element of lru (value *cacheEntry)
		lru     list.List                // front = most recently used
	}
}

type cacheEntry struct {
	sql     string
	stmt    ast.Statement
	expires time.Time
}

// NewCache returns a cache keeping each statement for ttl (0 disables
// caching: every call parses) and at most maxEntries statements (0 means
// no bound), evicting the least recently used.
func NewCache(ttl time.Duration, maxEntries int) *Cache {
	return newCacheWithClock(ttl, maxEntries, time.Now)
}

func newCacheWithClock(ttl time.Duration, maxEntries int, now func() time.Time) *Cache {
	c := &Cache{ttl: ttl, maxEntries: maxEntries, now: now}
	c.mu.entries = make(map[string]*list.Element)
	return c
}

// Parse returns the statement for sql, from the cache when a fresh entry
// exists, else by parsing it (see the package function Parse).
func (c *Cache) Parse(sql string) (ast.Statement, error) {
	if c == nil || c.ttl <= 0 {
		return Parse(sql)
	}
	now := c.now()
	if stmt, ok := c.lookup(sql, now); ok {
		return stmt, nil
	}
	stmt, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	c.insert(sql, stmt, now.Add(c.ttl))
	return stmt, nil
}

func (c *Cache) lookup(sql string, now time.Time) (ast.Statement, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.mu.entries[sql]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		return nil, false
	}
	c.mu.lru.MoveToFront(el)
	return e.stmt, true
}

func (c *Cache) insert(sql string, stmt ast.Statement, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.mu.entries[sql]; ok { // a concurrent caller won the race
		el.Value.(*cacheEntry).expires = expires
		c.mu.lru.MoveToFront(el)
		return
	}
	c.mu.entries[sql] = c.mu.lru.PushFront(&cacheEntry{sql: sql, stmt: stmt, expires: expires})
	for c.maxEntries > 0 && c.mu.lru.Len() > c.maxEntries {
		c.removeLocked(c.mu.lru.Back())
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	delete(c.mu.entries, el.Value.(*cacheEntry).sql)
	c.mu.lru.Remove(el)
}

// Len returns the number of cached statements (expired ones included
// until they are next looked up or evicted).
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}
