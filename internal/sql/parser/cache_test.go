package parser

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func TestCacheHitsExpiresAndEvicts(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newCacheWithClock(10*time.Second, 2, clock.now)

	a1, err := c.Parse("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.Parse("SELECT 1")
	if a1 != a2 {
		t.Fatal("second Parse of the same text did not hit the cache")
	}

	// Expiry: at exactly ttl the entry is stale.
	clock.t = clock.t.Add(10 * time.Second)
	if a3, _ := c.Parse("SELECT 1"); a3 == a1 {
		t.Fatal("expired entry was served")
	}

	// LRU eviction at maxEntries = 2.
	b1, _ := c.Parse("SELECT 2")
	a4, _ := c.Parse("SELECT 1") // touch SELECT 1; SELECT 2 is now least recent
	if _, err := c.Parse("SELECT 3"); err != nil {
		t.Fatal(err)
	}
	if got := c.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2", got)
	}
	if a5, _ := c.Parse("SELECT 1"); a5 != a4 {
		t.Fatal("recently used entry was evicted")
	}
	if b2, _ := c.Parse("SELECT 2"); b2 == b1 {
		t.Fatal("least recently used entry was not evicted")
	}
}

func TestCacheDisabledAndErrors(t *testing.T) {
	off := NewCache(0, 10)
	s1, _ := off.Parse("SELECT 1")
	s2, _ := off.Parse("SELECT 1")
	if s1 == s2 || off.Len() != 0 {
		t.Fatal("ttl 0 must disable caching")
	}
	var nilCache *Cache
	if _, err := nilCache.Parse("SELECT 1"); err != nil {
		t.Fatal(err)
	}

	c := NewCache(time.Minute, 0)
	for i := 0; i < 2; i++ {
		if _, err := c.Parse("SELECT * FORM t"); err == nil {
			t.Fatal("want a syntax error")
		}
	}
	if c.Len() != 0 {
		t.Fatal("errors must not be cached")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(time.Minute, 8)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := c.Parse(fmt.Sprintf("SELECT %d", i%16)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if c.Len() > 8 {
		t.Fatalf("Len = %d, want <= 8", c.Len())
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(time.Minute, 0)
	if _, err := c.Parse(benchSelect); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Parse(benchSelect); err != nil {
			b.Fatal(err)
		}
	}
}
