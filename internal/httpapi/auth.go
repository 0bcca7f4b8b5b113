package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Authenticator checks who sends a request (the node's server/auth
// implements it). nil in Options: every request runs as root.
type Authenticator interface {
	// Trusted reports whether a request from remote without credentials
	// runs as root (no root password yet and a trusted client).
	Trusted(ctx context.Context, remote net.Addr) (bool, error)
	// Password checks HTTP Basic credentials and returns the user to run
	// as; CADB0020 when they are wrong.
	Password(ctx context.Context, remote net.Addr, user, password string) (string, error)
}

// publicEndpoints answer without authentication.
var publicEndpoints = map[string]bool{"/ping": true, "/metrics": true}

// authenticate returns r carrying its authenticated user (session.WithUser),
// or the CADB0020 error to answer with 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	if s.auth == nil || publicEndpoints[r.URL.Path] {
		return r, nil
	}
	remote := remoteAddr(r)
	user, password, ok := r.BasicAuth()
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return nil, s.unauthorized(w, errcode.New(errcode.AuthFailed, "malformed Authorization header; use HTTP Basic"))
		}
		trusted, err := s.auth.Trusted(r.Context(), remote)
		if err != nil {
			return nil, err
		}
		if trusted {
			return r, nil
		}
		return nil, s.unauthorized(w, errcode.New(errcode.AuthFailed, "authentication required: send HTTP Basic credentials"))
	}
	user, err := s.auth.Password(r.Context(), remote, user, password)
	if err != nil {
		if errcode.Of(err) == errcode.AuthFailed {
			return nil, s.unauthorized(w, err)
		}
		return nil, err
	}
	return r.WithContext(session.WithUser(r.Context(), user)), nil
}

func (s *Server) unauthorized(w http.ResponseWriter, err error) error {
	w.Header().Set("WWW-Authenticate", `Basic realm="camusdb", charset="UTF-8"`)
	return err
}

// remoteAddr parses r.RemoteAddr; nil when it is not ip:port.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
