package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateCertificates(t *testing.T) {
	dir := t.TempDir()
	if err := CreateNodeCert(dir, []string{"127.0.0.1"}, time.Hour); err == nil {
		t.Fatal("node certificate without a CA")
	}
	if err := CreateCA(dir, DefaultCALifetime); err != nil {
		t.Fatal(err)
	}
	if err := CreateCA(dir, DefaultCALifetime); !errors.Is(err, ErrExists) {
		t.Fatalf("second CA: %v", err)
	}
	if err := CreateNodeCert(dir, []string{"127.0.0.1", "localhost", "db1.example"}, DefaultCertLifetime); err != nil {
		t.Fatal(err)
	}
	if err := CreateClientCert(dir, "app", DefaultCertLifetime); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	node, err := tls.LoadX509KeyPair(filepath.Join(dir, NodeCertFile), filepath.Join(dir, NodeKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(node.Certificate[0])
	for _, host := range []string{"127.0.0.1", "localhost", "db1.example"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("node certificate for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.example"}); err == nil {
		t.Error("node certificate valid for a host it does not name")
	}
	certFile, keyFile := ClientCertFiles("app")
	client, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := x509.ParseCertificate(client.Certificate[0])
	if cl.Subject.CommonName != "app" {
		t.Fatalf("client CN %q", cl.Subject.CommonName)
	}
	if _, err := cl.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	// A certificate of another CA does not verify.
	other := t.TempDir()
	if err := CreateCA(other, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := CreateNodeCert(other, []string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	foreign, _ := tls.LoadX509KeyPair(filepath.Join(other, NodeCertFile), filepath.Join(other, NodeKeyFile))
	fl, _ := x509.ParseCertificate(foreign.Certificate[0])
	if _, err := fl.Verify(x509.VerifyOptions{Roots: roots}); err == nil {
		t.Fatal("a certificate of another CA verified")
	}
	if st, _ := os.Stat(filepath.Join(dir, NodeKeyFile)); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}
}
