package server

import (
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestCheckExposure(t *testing.T) {
	base := DefaultConfig()
	cluster := func(c *Config) { c.Mode, c.RaftHost = ModeCluster, "10.0.0.1" }
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" = accepted; else a word of the message
	}{
		{"default loopback", func(*Config) {}, ""},
		{"localhost and ::1", func(c *Config) { c.HTTPHost = "::1"; c.RaftHost = "localhost" }, ""},
		{"0.0.0.0 bare", func(c *Config) { c.HTTPHost = "0.0.0.0" }, "root_password_file"},
		{"0.0.0.0 without password", func(c *Config) { c.HTTPHost = "0.0.0.0"; c.TLSCert, c.TLSKey = "c", "k" }, "root_password_file"},
		{"0.0.0.0 secured", func(c *Config) { c.HTTPHost = "0.0.0.0"; c.TLSCert, c.TLSKey, c.RootPasswordFile = "c", "k", "p" }, ""},
		{"0.0.0.0 insecure", func(c *Config) { c.HTTPHost = "0.0.0.0"; c.Insecure = true }, ""},
		{"raft beyond loopback needs certs_dir", func(c *Config) {
			cluster(c)
			c.TLSCert, c.TLSKey, c.RootPasswordFile = "c", "k", "p"
		}, "certs_dir"},
		{"raft with certs_dir", func(c *Config) {
			cluster(c)
			c.CertsDir, c.TLSCert, c.TLSKey, c.RootPasswordFile = "d", "c", "k", "p"
		}, ""},
		{"standalone ignores raft_host", func(c *Config) { c.RaftHost = "10.0.0.1" }, ""},
	} {
		c := base
		tc.mutate(&c)
		err := c.CheckExposure()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (errcode.Of(err) != errcode.InvalidConfig || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want CADB0600 naming %s", tc.name, err, tc.want)
		}
	}
}
