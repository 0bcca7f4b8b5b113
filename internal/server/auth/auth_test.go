package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	loopback = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	remote   = &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 1}
)

// setPassword stores a user (root included) with a password.
func setPassword(t *testing.T, db catalog.DB, user, password string) {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := privilege.NewVerifier(password)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := privilege.GetUser(ctx, txn, user); u == nil {
		if _, err := privilege.CreateUser(ctx, txn, &privilege.User{Name: user}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := privilege.SetPassword(ctx, txn, user, v); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	db  *catalogtest.MemDB
	a   *Authenticator
	reg *prometheus.Registry
	now atomic.Int64
}

func newFixture(t *testing.T, cfg Config) *fixture {
	f := &fixture{db: catalogtest.NewMemDB(), reg: prometheus.NewRegistry()}
	f.now.Store(time.Unix(1000, 0).UnixNano())
	cfg.DB, cfg.Registerer = f.db, f.reg
	cfg.Now = func() time.Time { return time.Unix(0, f.now.Load()) }
	if cfg.FailureDelay == 0 {
		cfg.FailureDelay = time.Microsecond
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	return f
}

func (f *fixture) advance(d time.Duration) { f.now.Add(int64(d)) }

func (f *fixture) count(protocol, result string) float64 {
	families, err := f.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["protocol"] == protocol && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// scramClient computes the client side of SCRAM-SHA-256 (RFC 5802 §3).
func scramClient(t *testing.T, e *Exchange, password string) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	clientFirstBare := "n=,r=fyko+d2lbbFgONRv9qkxdawL"
	serverFirst, err := e.Start(ctx, MechanismSCRAM, []byte("n,,"+clientFirstBare))
	if err != nil {
		return nil, err
	}
	var nonce, saltText string
	iterations := 0
	for _, attr := range strings.Split(string(serverFirst), ",") {
		switch attr[:2] {
		case "r=":
			nonce = attr[2:]
		case "s=":
			saltText = attr[2:]
		case "i=":
			for _, c := range attr[2:] {
				iterations = iterations*10 + int(c-'0')
			}
		}
	}
	salt, _ := base64.StdEncoding.DecodeString(saltText)
	v, err := privilege.DeriveVerifier(password, salt, iterations)
	if err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=biws,r=" + nonce
	authMessage := clientFirstBare + "," + string(serverFirst) + "," + withoutProof
	// ClientKey = StoredKey preimage: recompute it from the password.
	clientKey := clientKeyOf(t, password, salt, iterations)
	sig := privilege.HMAC(v.StoredKey, []byte(authMessage))
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	final, err := e.Finish(ctx, []byte(withoutProof+",p="+base64.StdEncoding.EncodeToString(proof)))
	if err != nil {
		return nil, err
	}
	if want := "v=" + base64.StdEncoding.EncodeToString(privilege.HMAC(v.ServerKey, []byte(authMessage))); string(final) != want {
		t.Fatalf("server signature %q, want %q", final, want)
	}
	return final, nil
}

func clientKeyOf(t *testing.T, password string, salt []byte, iterations int) []byte {
	t.Helper()
	// The verifier keeps only H(ClientKey); find ClientKey by deriving the
	// salted password the same way DeriveVerifier does.
	v, _ := privilege.DeriveVerifier(password, salt, iterations)
	salted := pbkdf2Key(t, password, salt, iterations)
	ck := privilege.HMAC(salted, []byte("Client Key"))
	if h := sha256.Sum256(ck); string(h[:]) != string(v.StoredKey) {
		t.Fatal("client key does not match the stored key")
	}
	return ck
}

func TestSCRAM(t *testing.T) {
	f := newFixture(t, Config{})
	setPassword(t, f.db, "alice", "s3cret")
	ctx := context.Background()

	e, err := f.a.Begin(ctx, "alice", remote)
	if err != nil || e.Trusted() {
		t.Fatalf("begin: %v trusted=%v", err, e != nil && e.Trusted())
	}
	if _, err := scramClient(t, e, "s3cret"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if e.User() != "alice" {
		t.Fatalf("user %q", e.User())
	}
	// Wrong password and unknown user fail the same way.
	for _, user := range []string{"alice", "nobody"} {
		e, err := f.a.Begin(ctx, user, remote)
		if err != nil {
			t.Fatal(err)
		}
		_, err = scramClient(t, e, "wrong")
		if errcode.Of(err) != errcode.AuthFailed || err.Error() != errAuthFailed(user).Error() {
			t.Fatalf("%s with a wrong password: %v", user, err)
		}
	}
	if got := f.count("pgwire", "failure"); got != 2 {
		t.Fatalf("failures counted %v", got)
	}
	// The unknown user's salt is stable across attempts.
	e1, _ := f.a.Begin(ctx, "nobody", remote)
	e2, _ := f.a.Begin(ctx, "nobody", remote)
	s1, _ := e1.Start(ctx, MechanismSCRAM, []byte("n,,n=,r=abc"))
	s2, _ := e2.Start(ctx, MechanismSCRAM, []byte("n,,n=,r=abc"))
	if salt := func(s []byte) string { return strings.Split(string(s), ",")[1] }; salt(s1) != salt(s2) {
		t.Fatalf("fake salt changes: %s vs %s", s1, s2)
	}
}

func TestTrust(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{TrustLoopback: true})
	for _, tc := range []struct {
		addr    net.Addr
		trusted bool
	}{{loopback, true}, {remote, false}} {
		got, err := f.a.Trusted(ctx, tc.addr)
		if err != nil || got != tc.trusted {
			t.Fatalf("%v: trusted=%v %v", tc.addr, got, err)
		}
	}
	// A trusted connection naming an unknown user runs as root; a user
	// with a password still authenticates.
	e, _ := f.a.Begin(ctx, "tester", loopback)
	if !e.Trusted() || e.User() != "root" {
		t.Fatalf("tester on trusted loopback: %v %q", e.Trusted(), e.User())
	}
	setPassword(t, f.db, "alice", "pw")
	if e, _ := f.a.Begin(ctx, "alice", loopback); e.Trusted() {
		t.Fatal("alice (with a password) trusted")
	}
	// Once root has a password nothing is trusted, after the recheck
	// interval or at once after Invalidate.
	setPassword(t, f.db, "root", "rootpw")
	f.a.Invalidate()
	if got, _ := f.a.Trusted(ctx, loopback); got {
		t.Fatal("trusted after root got a password")
	}
	if e, _ := f.a.Begin(ctx, "root", loopback); e.Trusted() {
		t.Fatal("root trusted after it got a password")
	}
	insecure := newFixture(t, Config{Insecure: true})
	if got, _ := insecure.a.Trusted(ctx, remote); !got {
		t.Fatal("--insecure without a root password does not trust a remote client")
	}
	secure := newFixture(t, Config{})
	if got, _ := secure.a.Trusted(ctx, loopback); got {
		t.Fatal("a node that does not trust loopback trusted it")
	}
}

func TestPasswordCacheAndBackoff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{FailureDelay: time.Microsecond, MaxFailureDelay: 8 * time.Microsecond, CacheTTL: time.Minute})
	setPassword(t, f.db, "alice", "pw")
	if u, err := f.a.Password(ctx, remote, "alice", "pw"); err != nil || u != "alice" {
		t.Fatalf("right password: %q %v", u, err)
	}
	// Cached: changing the stored password is not seen until Invalidate or TTL.
	setPassword(t, f.db, "alice", "pw2")
	if _, err := f.a.Password(ctx, remote, "alice", "pw"); err != nil {
		t.Fatalf("cached credentials: %v", err)
	}
	f.advance(2 * time.Minute)
	if _, err := f.a.Password(ctx, remote, "alice", "pw"); errcode.Of(err) != errcode.AuthFailed {
		t.Fatalf("expired cache entry still accepted: %v", err)
	}
	for _, c := range []struct{ user, pw string }{{"alice", "bad"}, {"nobody", "pw"}, {"admin", "x"}, {"root", ""}} {
		if _, err := f.a.Password(ctx, remote, c.user, c.pw); errcode.Of(err) != errcode.AuthFailed {
			t.Fatalf("%s/%s: %v", c.user, c.pw, err)
		}
	}
	// Back-off grows per (host, user) and is capped.
	if d := f.a.penalty(hostOf(remote), "alice"); d != 2*time.Microsecond {
		t.Fatalf("penalty after two failures %v", d)
	}
	if d := f.a.penalty(hostOf(loopback), "alice"); d != 0 {
		t.Fatalf("other host penalised: %v", d)
	}
	if d := f.a.delayFor(50); d != 8*time.Microsecond {
		t.Fatalf("cap %v", d)
	}
	if _, err := f.a.Password(ctx, remote, "alice", "pw2"); err != nil {
		t.Fatal(err)
	}
	if d := f.a.penalty(hostOf(remote), "alice"); d != 0 {
		t.Fatalf("penalty after success %v", d)
	}
	if got := f.count("http", "failure"); got != 5 {
		t.Fatalf("http failures %v", got)
	}
	// The cache stays bounded.
	small := newFixture(t, Config{CacheSize: 2})
	setPassword(t, small.db, "alice", "pw")
	for range 5 {
		if _, err := small.a.Password(ctx, remote, "alice", "pw"); err != nil {
			t.Fatal(err)
		}
		small.a.Invalidate()
	}
	small.a.mu.Lock()
	n := len(small.a.mu.cache)
	small.a.mu.Unlock()
	if n > 2 {
		t.Fatalf("cache has %d entries", n)
	}
}

func TestMalformedSCRAM(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	setPassword(t, f.db, "alice", "pw")
	for _, first := range []string{"", "n", "n,", "x,,n=,r=a", "p=tls-server-end-point,,n=,r=a", "n,a=bob,n=,r=a", "n,,r=a", "n,,n=,r=", "n,,n=,r=a,b"} {
		e, _ := f.a.Begin(ctx, "alice", remote)
		if _, err := e.Start(ctx, MechanismSCRAM, []byte(first)); !IsMalformed(err) && first != "n,,n=,r=a,b" {
			t.Errorf("client-first %q: %v", first, err)
		}
	}
	e, _ := f.a.Begin(ctx, "alice", remote)
	if _, err := e.Start(ctx, "PLAIN", nil); !IsMalformed(err) {
		t.Errorf("mechanism PLAIN: %v", err)
	}
	for _, final := range []string{"", "c=biws", "c=biws,r=x,p=!!", "c=biws,r=x,p=AAAA", "r=x,c=biws,p=" + strings.Repeat("A", 44)} {
		e, _ := f.a.Begin(ctx, "alice", remote)
		if _, err := e.Start(ctx, MechanismSCRAM, []byte("n,,n=,r=abc")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Finish(ctx, []byte(final)); !IsMalformed(err) {
			t.Errorf("client-final %q: %v", final, err)
		}
	}
	if _, err := e.Finish(ctx, nil); !IsMalformed(err) {
		t.Errorf("finish before start: %v", err)
	}
}

// TestManyWrongPasswords: concurrent guesses all fail, are all counted,
// and the right password still works afterwards.
func TestManyWrongPasswords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{FailureDelay: time.Microsecond, MaxFailureDelay: time.Microsecond})
	setPassword(t, f.db, "alice", "pw")
	const guesses = 200
	errs := make(chan error, guesses)
	for i := range guesses {
		go func() {
			host := &net.TCPAddr{IP: net.IPv4(10, 0, byte(i/250), byte(i%250)), Port: 1}
			_, err := f.a.Password(ctx, host, "alice", "guess"+string(rune('a'+i%26)))
			errs <- err
		}()
	}
	for range guesses {
		if err := <-errs; errcode.Of(err) != errcode.AuthFailed {
			t.Fatalf("a guess got %v", err)
		}
	}
	if got := f.count("http", "failure"); got != guesses {
		t.Fatalf("failures counted %v, want %d", got, guesses)
	}
	if _, err := f.a.Password(ctx, remote, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
}
