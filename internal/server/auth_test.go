package server

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/server/auth"
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

// ReloadCertificates (SIGHUP) makes new TLS connections use the key pair
// now in tls_cert/tls_key.
func TestReloadCertificates(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	for _, dir := range []string{first, second} {
		if err := auth.CreateCA(dir, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := auth.CreateNodeCert(dir, []string{"127.0.0.1"}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t)
	cfg.CertsDir = first
	cfg.ResolveCertsDir()
	node, err := NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = node.Stop(context.Background()) }()
	serial := func() string {
		conn, err := tls.Dial("tcp", node.HTTPAddr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the serial is read
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	for _, name := range []string{auth.NodeCertFile, auth.NodeKeyFile} {
		b, err := os.ReadFile(filepath.Join(second, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(first, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if serial() != before {
		t.Fatal("the certificate changed before the reload")
	}
	if err := node.ReloadCertificates(); err != nil {
		t.Fatal(err)
	}
	if serial() == before {
		t.Fatal("the certificate did not change after the reload")
	}
	if err := os.WriteFile(filepath.Join(first, auth.NodeKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := node.ReloadCertificates(); errcode.Of(err) != errcode.InvalidConfig {
		t.Fatalf("reloading a broken key: %v", err)
	}
	if serial() == before {
		t.Fatal("a failed reload changed the certificate")
	}
}
