package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// MechanismSCRAM is the only SASL mechanism offered.
const MechanismSCRAM = "SCRAM-SHA-256"

// Exchange authenticates one pgwire connection: either trusted (no
// password) or a SCRAM-SHA-256 exchange of two client messages. It is
// owned by the connection's goroutine.
type Exchange struct {
	a       *Authenticator
	trusted bool
	user    string
	host    string

	verifier privilege.Verifier
	known    bool

	step            int // 0: expect client-first, 1: client-final, 2: done
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
}

// Begin starts authenticating a connection that claims user from remote.
// Trusted connections (see Trusted) run as root unless they name a user
// that has a password, which then authenticates like on a secured node.
func (a *Authenticator) Begin(ctx context.Context, user string, remote net.Addr) (*Exchange, error) {
	e := &Exchange{a: a, user: user, host: hostOf(remote)}
	trusted, err := a.Trusted(ctx, remote)
	if err != nil {
		return nil, err
	}
	u, err := a.lookupUser(ctx, user)
	if err != nil {
		return nil, errcode.New(errcode.MustRetry, "cannot read the users table: %v", err)
	}
	e.verifier, e.known = loginVerifier(u)
	if trusted && (!e.known || user == privilege.RootUser) {
		e.trusted, e.user = true, privilege.RootUser
		return e, nil
	}
	if !e.known {
		e.verifier = a.fakeVerifier(user)
	}
	return e, nil
}

// Trusted reports that no password exchange is needed.
func (e *Exchange) Trusted() bool { return e.trusted }

// User is the user the connection runs as once authenticated.
func (e *Exchange) User() string { return e.user }

// errMalformed reports a SCRAM message that breaks the grammar.
func errMalformed(what string) error {
	return errcode.New(errcode.InvalidInput, "malformed SCRAM message: %s", what)
}

// Start consumes the client-first message (SASLInitialResponse) and
// returns the server-first message.
func (e *Exchange) Start(ctx context.Context, mechanism string, data []byte) ([]byte, error) {
	if e.step != 0 {
		return nil, errMalformed("unexpected initial response")
	}
	e.step = 1
	if mechanism != MechanismSCRAM {
		return nil, errcode.New(errcode.InvalidInput, "SASL mechanism %q is not supported; use %s", mechanism, MechanismSCRAM)
	}
	if err := e.a.waitPenalty(ctx, e.host, e.user); err != nil {
		return nil, err
	}
	first, err := ParseClientFirst(string(data))
	if err != nil {
		return nil, err
	}
	var serverNonce [18]byte
	if _, err := rand.Read(serverNonce[:]); err != nil {
		return nil, err
	}
	e.gs2Header, e.clientFirstBare = first.GS2Header, first.Bare
	e.nonce = first.Nonce + base64.RawStdEncoding.EncodeToString(serverNonce[:])
	e.serverFirst = "r=" + e.nonce + ",s=" + base64.StdEncoding.EncodeToString(e.verifier.Salt) +
		",i=" + strconv.Itoa(e.verifier.Iterations)
	return []byte(e.serverFirst), nil
}

// Finish consumes the client-final message and returns the server-final
// message; CADB0020 (after the back-off) when the proof is wrong or the
// user cannot log in.
func (e *Exchange) Finish(ctx context.Context, data []byte) ([]byte, error) {
	if e.step != 1 {
		return nil, errMalformed("unexpected response")
	}
	e.step = 2
	final, err := ParseClientFinal(string(data))
	if err != nil {
		return nil, err
	}
	if final.ChannelBinding != base64.StdEncoding.EncodeToString([]byte(e.gs2Header)) {
		return nil, errMalformed("channel binding does not match the initial message")
	}
	if final.Nonce != e.nonce {
		return nil, errMalformed("nonce does not match")
	}
	authMessage := []byte(e.clientFirstBare + "," + e.serverFirst + "," + final.WithoutProof)
	clientSignature := privilege.HMAC(e.verifier.StoredKey, authMessage)
	ok := len(final.Proof) == len(clientSignature)
	clientKey := make([]byte, len(clientSignature))
	if ok {
		for i := range clientKey {
			clientKey[i] = final.Proof[i] ^ clientSignature[i]
		}
	}
	stored := sha256.Sum256(clientKey)
	ok = hmac.Equal(stored[:], e.verifier.StoredKey) && ok && e.known
	if !ok {
		return nil, e.a.fail(ctx, "pgwire", e.host, e.user)
	}
	e.a.succeed(e.host, e.user)
	e.a.metrics.success("pgwire")
	serverSignature := privilege.HMAC(e.verifier.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), nil
}

// ClientFirst is a parsed client-first message.
type ClientFirst struct {
	GS2Header string // "n,," or "y,,"
	Bare      string // client-first-message-bare
	Nonce     string
}

// ParseClientFirst parses a client-first message (RFC 5802 §7). Channel
// binding ("p=") and authorization identities are refused; the user name
// attribute is ignored (the startup message names the user, as in
// PostgreSQL).
func ParseClientFirst(msg string) (ClientFirst, error) {
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return ClientFirst{}, errMalformed("missing GS2 header")
	}
	switch {
	case flag == "n" || flag == "y":
	case strings.HasPrefix(flag, "p="):
		return ClientFirst{}, errcode.New(errcode.InvalidInput, "SCRAM channel binding is not supported")
	default:
		return ClientFirst{}, errMalformed("bad channel binding flag")
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return ClientFirst{}, errMalformed("missing GS2 header")
	}
	if authzid != "" {
		return ClientFirst{}, errcode.New(errcode.InvalidInput, "SCRAM authorization identities are not supported")
	}
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return ClientFirst{}, errMalformed("expected n=user,r=nonce")
	}
	nonce := attrs[1][2:]
	if !validNonce(nonce) {
		return ClientFirst{}, errMalformed("bad nonce")
	}
	return ClientFirst{GS2Header: flag + ",,", Bare: bare, Nonce: nonce}, nil
}

// validNonce: printable ASCII except ',' (RFC 5802 §7), non-empty, bounded.
func validNonce(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// ClientFinal is a parsed client-final message.
type ClientFinal struct {
	ChannelBinding string // the c= value (base64)
	Nonce          string
	Proof          []byte
	WithoutProof   string // client-final-message-without-proof
}

// ParseClientFinal parses c=...,r=...[,ext...],p=... .
func ParseClientFinal(msg string) (ClientFinal, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return ClientFinal{}, errMalformed("missing proof")
	}
	withoutProof, proofText := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return ClientFinal{}, errMalformed("expected c=binding,r=nonce")
	}
	proof, err := base64.StdEncoding.DecodeString(proofText)
	if err != nil {
		return ClientFinal{}, errMalformed("proof is not base64")
	}
	if len(proof) != sha256.Size {
		return ClientFinal{}, errMalformed("proof has the wrong length")
	}
	return ClientFinal{ChannelBinding: attrs[0][2:], Nonce: attrs[1][2:], Proof: proof, WithoutProof: withoutProof}, nil
}

// IsMalformed reports whether err is a protocol violation of the client
// (rather than a failed login).
func IsMalformed(err error) bool {
	var coded *errcode.Error
	return errors.As(err, &coded) && coded.Code == errcode.InvalidInput
}
