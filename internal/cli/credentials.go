package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/camusdb/camusdb-go/client"
)

// PasswordEnv is the environment variable camus-cli and camus-dump read the
// password of --user from.
const PasswordEnv = "CAMUSDB_PASSWORD"

// addUserFlag declares --user.
func addUserFlag(fl *pflag.FlagSet, user *string) {
	fl.StringVar(user, "user", "", "authenticate as this user; the password comes from $"+PasswordEnv+" or, on a terminal, a prompt")
}

// Credentials are the user a tool authenticates as; no User means no
// credentials (a loopback node without a root password trusts its clients).
type Credentials struct {
	User     string
	Password string
}

// clientOptions turns credentials into client options.
func (c Credentials) clientOptions() []client.Option {
	if c.User == "" {
		return nil
	}
	return []client.Option{client.WithCredentials(c.User, c.Password)}
}

// resolveCredentials picks the user (--user over the connection string's
// User) and its password: the connection string's Password, then
// $CAMUSDB_PASSWORD, then a prompt on stderr when stdin is a terminal.
func resolveCredentials(userFlag string, conn client.ConnConfig, stdin io.Reader, stderr io.Writer) (Credentials, error) {
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
