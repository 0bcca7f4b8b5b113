package cli

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/client"
)

func TestResolveCredentials(t *testing.T) {
	t.Setenv(PasswordEnv, "envpw")
	stdin := strings.NewReader("")
	for _, tc := range []struct {
		flag string
		conn client.ConnConfig
		want Credentials
	}{
		{"", client.ConnConfig{}, Credentials{}},
		{"app", client.ConnConfig{}, Credentials{User: "app", Password: "envpw"}},
		{"", client.ConnConfig{User: "u"}, Credentials{User: "u", Password: "envpw"}},
		{"app", client.ConnConfig{User: "u", Password: "cspw"}, Credentials{User: "app", Password: "cspw"}},
	} {
		got, err := resolveCredentials(tc.flag, "", tc.conn, stdin, io.Discard)
		if err != nil || got != tc.want {
			t.Errorf("%q %+v: %+v %v", tc.flag, tc.conn, got, err)
		}
	}
}

func TestResolveCredentialsWithoutPassword(t *testing.T) {
	t.Setenv(PasswordEnv, "")
	// An empty but set variable is a password (""); unset it for the
	// no-terminal case.
	if got, err := resolveCredentials("app", "", client.ConnConfig{}, strings.NewReader(""), io.Discard); err != nil || got.Password != "" {
		t.Fatalf("empty variable: %+v %v", got, err)
	}
	os.Unsetenv(PasswordEnv) // t.Setenv restores it
	if _, err := resolveCredentials("app", "", client.ConnConfig{}, strings.NewReader(""), io.Discard); err == nil || !strings.Contains(err.Error(), PasswordEnv) {
		t.Fatalf("no password and no terminal: %v", err)
	}
}
