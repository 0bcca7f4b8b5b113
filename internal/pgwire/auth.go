package pgwire

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Authenticator decides how a connection authenticates (the node's
// server/auth implements it). nil in Config: every connection is trusted
// and runs as root.
type Authenticator interface {
	// Begin starts authenticating a connection that claims user.
	Begin(ctx context.Context, user string, remote net.Addr) (AuthExchange, error)
}

// AuthExchange is the authentication of one connection.
type AuthExchange interface {
	// Trusted: no password exchange; the connection runs as User.
	Trusted() bool
	// User is the session user once authentication succeeded.
	User() string
	// Start takes the SASLInitialResponse and returns the server-first
	// message; Finish takes the SASLResponse and returns the server-final
	// message. Errors carry CADB codes: CADB0020 for a failed login,
	// CADB0400 for a malformed exchange.
	Start(ctx context.Context, mechanism string, data []byte) ([]byte, error)
	Finish(ctx context.Context, data []byte) ([]byte, error)
}

// saslMechanism is the only SASL mechanism offered.
const saslMechanism = "SCRAM-SHA-256"

// authenticate runs the authentication of the startup phase and returns
// the session user ("" without an Authenticator: root). On an error it has
// sent the FATAL message when the client can still read one.
func (c *conn) authenticate(ctx context.Context, user string) (sessionUser string, err error) {
	auth := c.srv.cfg.Auth
	if auth == nil {
		return "", nil
	}
	ex, err := auth.Begin(ctx, user, c.nc.RemoteAddr())
	if err != nil {
		c.sendFatal("", err)
		return "", err
	}
	if ex.Trusted() {
		return ex.User(), nil
	}
	fail := func(err error) (string, error) {
		state := "28P01"
		if errcode.Of(err) != errcode.AuthFailed {
			state = "08P01"
		}
		c.sendFatal(state, err)
		return "", err
	}
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{saslMechanism}})
	if err := c.be.Flush(); err != nil {
		return "", err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return "", err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return "", fmt.Errorf("pgwire: reading SASLInitialResponse: %w", err)
	}
	initial, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		return fail(errcode.New(errcode.InvalidInput, "expected SASLInitialResponse, got %T", msg))
	}
	reply, err := ex.Start(ctx, initial.AuthMechanism, initial.Data)
	if err != nil {
		return fail(err)
	}
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: reply})
	if err := c.be.Flush(); err != nil {
		return "", err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return "", err
	}
	msg, err = c.be.Receive()
	if err != nil {
		return "", fmt.Errorf("pgwire: reading SASLResponse: %w", err)
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return fail(errcode.New(errcode.InvalidInput, "expected SASLResponse, got %T", msg))
	}
	final, err := ex.Finish(ctx, resp.Data)
	if err != nil {
		return fail(err)
	}
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: final})
	if ex.User() == "" {
		return "", errors.New("pgwire: authenticator returned no user")
	}
	return ex.User(), nil
}
