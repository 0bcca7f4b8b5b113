package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/camusdb/camusdb-go/client"
)

// PasswordEnv is the environment variable camus-cli and camus-dump read the
// password of --user from.
const PasswordEnv = "CAMUSDB_PASSWORD"

// addUserFlag declares --user and --certs-dir.
func addUserFlag(fl *pflag.FlagSet, user, certsDir *string) {
	fl.StringVar(user, "user", "", "authenticate as this user; the password comes from $"+PasswordEnv+" or, on a terminal, a prompt")
	fl.StringVar(certsDir, "certs-dir", "", "trust the cluster CA of this directory (ca.crt) for https:// URLs")
}

// Credentials are the user a tool authenticates as; no User means no
// credentials (a loopback node without a root password trusts its clients).
type Credentials struct {
	User     string
	Password string
	// TLS, when set, is the TLS configuration of https endpoints.
	TLS *tls.Config
}

// clientOptions turns credentials into client options.
func (c Credentials) clientOptions() []client.Option {
	var opts []client.Option
	if c.User != "" {
		opts = append(opts, client.WithCredentials(c.User, c.Password))
	}
	if c.TLS != nil {
		opts = append(opts, client.WithTLSConfig(c.TLS))
	}
	return opts
}

// certsDirTLS trusts the ca.crt of dir ("" = the system roots only).
func certsDirTLS(dir string) (*tls.Config, error) {
	if dir == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("--certs-dir: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--certs-dir: %s holds no certificate", filepath.Join(dir, "ca.crt"))
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// resolveCredentials picks the user (--user over the connection string's
// User) and its password: the connection string's Password, then
// $CAMUSDB_PASSWORD, then a prompt on stderr when stdin is a terminal.
func resolveCredentials(userFlag, certsDir string, conn client.ConnConfig, stdin io.Reader, stderr io.Writer) (Credentials, error) {
	tlsConfig, err := certsDirTLS(certsDir)
	if err != nil {
		return Credentials{}, err
	}
	creds, err := resolvePassword(userFlag, conn, stdin, stderr)
	creds.TLS = tlsConfig
	return creds, err
}

func resolvePassword(userFlag string, conn client.ConnConfig, stdin io.Reader, stderr io.Writer) (Credentials, error) {
	user := shellFirstNonEmpty(userFlag, conn.User)
	if user == "" {
		return Credentials{}, nil
	}
	if conn.Password != "" {
		return Credentials{User: user, Password: conn.Password}, nil
	}
	if pw, ok := os.LookupEnv(PasswordEnv); ok {
		return Credentials{User: user, Password: pw}, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Credentials{}, fmt.Errorf("--user %s needs a password: set $%s (no terminal to prompt on)", user, PasswordEnv)
	}
	fmt.Fprintf(stderr, "Password for %s: ", user)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the password: %w", err)
	}
	return Credentials{User: user, Password: string(pw)}, nil
}
