package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

func TestParseCacheTTLAndLRU(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newParseCache(time.Minute, 2, func() time.Time { return now })
	a, b, d := &ast.Begin{}, &ast.Commit{}, &ast.Rollback{}
	c.put(parseKey{sql: "a"}, a)
	c.put(parseKey{sql: "b"}, b)
	if got, ok := c.get(parseKey{sql: "a"}); !ok || got != a {
		t.Fatal("a not cached")
	}
	c.put(parseKey{sql: "d"}, d) // evicts b, the least recently used
	if _, ok := c.get(parseKey{sql: "b"}); ok {
		t.Fatal("b survived eviction")
	}
	if _, ok := c.get(parseKey{sql: "a"}); !ok {
		t.Fatal("a evicted instead of b")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get(parseKey{sql: "a"}); ok {
		t.Fatal("expired entry returned")
	}
	if c.len() != 1 {
		t.Fatalf("len %d after expiry, want 1", c.len())
	}

	off := newParseCache(0, 0, time.Now)
	off.put(parseKey{sql: "a"}, a)
	if _, ok := off.get(parseKey{sql: "a"}); ok {
		t.Fatal("TTL 0 must disable the cache")
	}
	// The same text in the two dialects is two entries: it can mean two
	// different statements.
	two := newParseCache(time.Hour, 0, time.Now)
	two.put(parseKey{sql: "a"}, a)
	two.put(parseKey{sql: "a", opts: parser.Options{StandardStrings: true}}, b)
	if got, _ := two.get(parseKey{sql: "a"}); got != a || two.len() != 2 {
		t.Fatal("dialects share a cache entry")
	}
	unbounded := newParseCache(time.Hour, 0, time.Now)
	for i := 0; i < 100; i++ {
		unbounded.put(parseKey{sql: fmt.Sprint(i)}, a)
	}
	if unbounded.len() != 100 {
		t.Fatalf("unbounded cache holds %d", unbounded.len())
	}
}

func TestMapError(t *testing.T) {
	coded := errcode.New(errcode.UniqueViolation, "dup")
	for _, tc := range []struct {
		err  error
		want errcode.Code
	}{
		{&kvpb.ConflictError{}, errcode.TxnConflict},
		{fmt.Errorf("wrapped: %w", &kvpb.RetryError{}), errcode.MustRetry},
		{&kvpb.AmbiguousError{Cause: &kvpb.RetryError{}}, errcode.Ambiguous},
		{&kvpb.CorruptionError{}, errcode.Corruption},
		{kvpb.ErrTxnClosed, errcode.TxnClosed},
		{coded, errcode.UniqueViolation},
		{context.DeadlineExceeded, errcode.MustRetry},
		{errors.New("boom"), errcode.Internal},
	} {
		if got := errcode.Of(mapError(tc.err)); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.err, got, tc.want)
		}
	}
	if mapError(coded) != error(coded) {
		t.Error("coded errors must pass through unchanged")
	}
	if mapError(nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestInterruptedKeepsAmbiguity(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := interrupted(ctx, errcode.New(errcode.Ambiguous, "commit outcome unknown")); errcode.Of(err) != errcode.Ambiguous {
		t.Fatalf("an ambiguous commit became %v", err)
	}
	if err := interrupted(ctx, errors.New("context canceled")); errcode.Of(err) != errcode.QueryCancelled {
		t.Fatalf("got %v, want CADB0506", err)
	}
	if err := interrupted(context.Background(), errcode.New(errcode.TxnConflict, "x")); errcode.Of(err) != errcode.TxnConflict {
		t.Fatalf("a live context changed the error: %v", err)
	}
}

// A statement's context carries its deadline (code that sizes a wait by
// ctx.Deadline sees the statement timeout), or the parent's when earlier;
// the sweeper cancels it once the deadline passed, and stops when no
// statement runs.
func TestQueryRegistryDeadlineAndSweeper(t *testing.T) {
	r := newQueryRegistry(1, time.Now)
	start := time.Now()
	ctx, q := r.begin(context.Background(), Request{SQL: "a", Timeout: time.Hour}, 0)
	if d, ok := ctx.Deadline(); !ok || d.Before(start.Add(time.Hour)) || d.After(time.Now().Add(time.Hour)) {
		t.Fatalf("deadline %v %v, want an hour from now", d, ok)
	}
	r.end(q)

	pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	parent, _ := pctx.Deadline()
	ctx, q = r.begin(pctx, Request{SQL: "b", Timeout: time.Hour}, 0)
	if d, ok := ctx.Deadline(); !ok || !d.Equal(parent) {
		t.Fatalf("deadline %v %v, want the parent's %v", d, ok, parent)
	}
	r.end(q)

	ctx, q = r.begin(context.Background(), Request{SQL: "c", Timeout: time.Millisecond, TimeoutSetting: "t"}, 0)
	<-ctx.Done()
	if errcode.Of(context.Cause(ctx)) != errcode.StatementTimeout {
		t.Fatalf("cause %v, want a statement timeout", context.Cause(ctx))
	}
	r.end(q)
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.mu.sweeping {
			return errors.New("the sweeper still runs with no statement")
		}
		return nil
	})
}

// A bulk INSERT's text is not kept by the parse cache (its AST is ~14
// times the text, and it is rarely repeated); a short statement is.
func TestParseCacheSkipsLongStatements(t *testing.T) {
	s := &Server{cache: newParseCache(time.Minute, 0, time.Now)}
	var b strings.Builder
	b.WriteString("INSERT INTO t (k, v) VALUES ")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", 100000+i, i)
	}
	if _, err := s.parse(b.String(), parser.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := s.cache.len(); n != 0 {
		t.Fatalf("a %d-byte INSERT was cached", b.Len())
	}
	if _, err := s.parse("INSERT INTO t (k, v) VALUES (1, 2)", parser.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := s.cache.len(); n != 1 {
		t.Fatalf("a short statement was not cached (%d entries)", n)
	}
}
