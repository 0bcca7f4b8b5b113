package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Defaults of Config.
const (
	DefaultFailureDelay    = 100 * time.Millisecond
	DefaultMaxFailureDelay = 5 * time.Second
	DefaultCacheTTL        = 30 * time.Second
	DefaultCacheSize       = 1024
	DefaultRootRecheck     = time.Second
	// failureWindow forgets failures of a pair idle this long.
	failureWindow = 10 * time.Minute
	// maxFailureEntries bounds the failure table; beyond it the oldest
	// half is dropped.
	maxFailureEntries = 100_000
)

// Config configures an Authenticator. Zero values take the defaults.
type Config struct {
	// DB is where users are read (required).
	DB catalog.DB
	// TrustLoopback: while root has no password, loopback clients connect
	// as root without one (the node listens only on loopback).
	TrustLoopback bool
	// Insecure: while root has no password, every client connects as root
	// without one (--insecure).
	Insecure bool
	// Registerer receives the auth metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// FailureDelay is the wait after a first failed login; it doubles per
	// consecutive failure of the same (host, user) up to MaxFailureDelay.
	FailureDelay    time.Duration
	MaxFailureDelay time.Duration
	// CacheTTL and CacheSize bound the cache of verified HTTP credentials.
	CacheTTL  time.Duration
	CacheSize int
	// RootRecheck is how often "root has no password" is re-read.
	RootRecheck time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authenticator is safe for concurrent use.
type Authenticator struct {
	cfg     Config
	secret  [32]byte // keys the fake salts of unknown users
	metrics *metrics
	// derive bounds concurrent PBKDF2 derivations (HTTP Basic checks), so a
	// flood of password guesses cannot take every core from queries.
	derive chan struct{}

	mu struct {
		sync.Mutex
		rootHasPassword bool      // latched once true
		rootCheckedAt   time.Time // last read while false
		// rootKnown: the state was read successfully at least once; a
		// later failed read (no leader for the system partition) then
		// answers with the last known state instead of failing.
		rootKnown bool
		cache     map[[32]byte]cacheEntry
		failures  map[failureKey]*failureState
	}
}

type cacheEntry struct {
	user    string
	expires time.Time
}

type failureKey struct{ host, user string }

type failureState struct {
	count int
	last  time.Time
}

// New returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.FailureDelay <= 0 {
		cfg.FailureDelay = DefaultFailureDelay
	}
	if cfg.MaxFailureDelay <= 0 {
		cfg.MaxFailureDelay = DefaultMaxFailureDelay
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.RootRecheck <= 0 {
		cfg.RootRecheck = DefaultRootRecheck
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{cfg: cfg, derive: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
	if _, err := rand.Read(a.secret[:]); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	a.mu.cache = map[[32]byte]cacheEntry{}
	a.mu.failures = map[failureKey]*failureState{}
	return a, nil
}

// Invalidate drops cached credentials and re-reads root's password state;
// call it when users change on this node.
func (a *Authenticator) Invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mu.cache = map[[32]byte]cacheEntry{}
	a.mu.rootCheckedAt = time.Time{}
}

// errAuthFailed is the one failure answer, whatever went wrong.
func errAuthFailed(user string) error {
	return errcode.New(errcode.AuthFailed, "password authentication failed for user %q", user)
}

func (a *Authenticator) lookupUser(ctx context.Context, name string) (*privilege.User, error) {
	txn, err := a.cfg.DB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	return privilege.GetUser(ctx, txn, name)
}

// RootHasPassword reports whether root has a password (latched once true).
func (a *Authenticator) RootHasPassword(ctx context.Context) (bool, error) {
	now := a.cfg.Now()
	a.mu.Lock()
	if a.mu.rootHasPassword || (!a.mu.rootCheckedAt.IsZero() && now.Sub(a.mu.rootCheckedAt) < a.cfg.RootRecheck) {
		has := a.mu.rootHasPassword
		a.mu.Unlock()
		return has, nil
	}
	a.mu.Unlock()
	root, err := a.lookupUser(ctx, privilege.RootUser)
	if err != nil {
		a.mu.Lock()
		known, has := a.mu.rootKnown, a.mu.rootHasPassword
		a.mu.Unlock()
		if known {
			return has, nil
		}
		return false, errcode.New(errcode.MustRetry, "cannot read the users table: %v", err)
	}
	has := root != nil && root.Verifier != ""
	a.mu.Lock()
	if has {
		a.mu.rootHasPassword = true
	}
	a.mu.rootCheckedAt = now
	a.mu.rootKnown = true
	a.mu.Unlock()
	return has, nil
}

// Trusted reports whether a client at remote may connect as root without
// a password: root has none and the node trusts loopback (remote is
// loopback) or runs --insecure.
func (a *Authenticator) Trusted(ctx context.Context, remote net.Addr) (bool, error) {
	if !a.cfg.TrustLoopback && !a.cfg.Insecure {
		return false, nil
	}
	has, err := a.RootHasPassword(ctx)
	if err != nil || has {
		return false, err
	}
	return a.cfg.Insecure || IsLoopbackAddr(remote), nil
}

// IsLoopbackAddr reports whether addr is a loopback IP (or a Unix socket).
func IsLoopbackAddr(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	case nil:
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		host = addr.String()
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackHost reports whether host (an IP or a name) is loopback:
// a loopback IP or "localhost".
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hostOf(remote net.Addr) string {
	if remote == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		return remote.String()
	}
	return host
}

func credentialKey(user, password string) [32]byte {
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// Password checks HTTP Basic credentials of a client at remote and returns
// the user to run as. A failure is CADB0020, after the back-off.
func (a *Authenticator) Password(ctx context.Context, remote net.Addr, user, password string) (string, error) {
	key := credentialKey(user, password)
	now := a.cfg.Now()
	a.mu.Lock()
	if e, ok := a.mu.cache[key]; ok && now.Before(e.expires) {
		a.mu.Unlock()
		a.metrics.success("http")
		return e.user, nil
	}
	a.mu.Unlock()
	host := hostOf(remote)
	if err := a.waitPenalty(ctx, host, user); err != nil {
		return "", err
	}
	u, err := a.lookupUser(ctx, user)
	if err != nil {
		return "", errcode.New(errcode.MustRetry, "cannot read the users table: %v", err)
	}
	v, known := loginVerifier(u)
	if !known {
		v = a.fakeVerifier(user)
	}
	select {
	case a.derive <- struct{}{}:
	case <-ctx.Done():
		return "", errcode.New(errcode.AuthFailed, "authentication did not finish in time")
	}
	ok := v.CheckPassword(password) && known
	<-a.derive
	if !ok {
		return "", a.fail(ctx, "http", host, user)
	}
	a.succeed(host, user)
	a.metrics.success("http")
	a.mu.Lock()
	if len(a.mu.cache) >= a.cfg.CacheSize {
		for k := range a.mu.cache { // drop an arbitrary entry: the map stays bounded
			delete(a.mu.cache, k)
			break
		}
	}
	a.mu.cache[key] = cacheEntry{user: user, expires: now.Add(a.cfg.CacheTTL)}
	a.mu.Unlock()
	return user, nil
}

// loginVerifier returns the verifier of a user that may log in with a
// password; known=false for unknown users, roles and users without one.
func loginVerifier(u *privilege.User) (privilege.Verifier, bool) {
	if u == nil || u.Role || u.Verifier == "" {
		return privilege.Verifier{}, false
	}
	v, err := privilege.ParseVerifier(u.Verifier)
	if err != nil {
		return privilege.Verifier{}, false
	}
	return v, true
}

// fakeVerifier gives an unknown user a stable salt (so repeated attempts
// look like a real user's) and keys that match no password.
func (a *Authenticator) fakeVerifier(user string) privilege.Verifier {
	salt := privilege.HMAC(a.secret[:], []byte("salt:"+user))[:16]
	return privilege.Verifier{
		Salt:       salt,
		Iterations: privilege.DefaultIterations,
		StoredKey:  privilege.HMAC(a.secret[:], []byte("stored:"+user)),
		ServerKey:  privilege.HMAC(a.secret[:], []byte("server:"+user)),
	}
}

// penalty is the wait owed by (host, user) before its next attempt.
func (a *Authenticator) penalty(host, user string) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.mu.failures[failureKey{host, user}]
	if st == nil {
		return 0
	}
	if a.cfg.Now().Sub(st.last) > failureWindow {
		delete(a.mu.failures, failureKey{host, user})
		return 0
	}
	return a.delayFor(st.count)
}

func (a *Authenticator) delayFor(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := a.cfg.FailureDelay
	for i := 1; i < failures && d < a.cfg.MaxFailureDelay; i++ {
		d *= 2
	}
	return min(d, a.cfg.MaxFailureDelay)
}

func (a *Authenticator) waitPenalty(ctx context.Context, host, user string) error {
	return wait(ctx, a.penalty(host, user))
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errcode.New(errcode.AuthFailed, "authentication did not finish in time")
	case <-t.C:
		return nil
	}
}

// fail records a failed login of (host, user), waits its back-off and
// returns the failure error.
func (a *Authenticator) fail(ctx context.Context, protocol, host, user string) error {
	a.metrics.failure(protocol)
	a.mu.Lock()
	k := failureKey{host, user}
	st := a.mu.failures[k]
	if st == nil {
		if len(a.mu.failures) >= maxFailureEntries {
			a.pruneFailuresLocked()
		}
		st = &failureState{}
		a.mu.failures[k] = st
	}
	st.count++
	st.last = a.cfg.Now()
	d := a.delayFor(st.count)
	a.mu.Unlock()
	a.cfg.Logger.Info("authentication failed", "protocol", protocol, "host", host, "user", user)
	_ = wait(ctx, d)
	return errAuthFailed(user)
}

func (a *Authenticator) pruneFailuresLocked() {
	cutoff := a.cfg.Now().Add(-failureWindow)
	for k, st := range a.mu.failures {
		if st.last.Before(cutoff) {
			delete(a.mu.failures, k)
		}
	}
	if len(a.mu.failures) >= maxFailureEntries {
		a.mu.failures = map[failureKey]*failureState{}
	}
}

func (a *Authenticator) succeed(host, user string) {
	a.mu.Lock()
	delete(a.mu.failures, failureKey{host, user})
	a.mu.Unlock()
}

// metrics counts logins by protocol and result.
type metrics struct {
	attempts *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "camusdb_auth_attempts_total",
		Help: "Password logins by protocol (http, pgwire) and result (success, failure).",
	}, []string{"protocol", "result"})}
	if reg != nil {
		if err := reg.Register(m.attempts); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) success(protocol string) { m.attempts.WithLabelValues(protocol, "success").Inc() }
func (m *metrics) failure(protocol string) { m.attempts.WithLabelValues(protocol, "failure").Inc() }
