package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certificate files in a certs directory (--certs-dir).
const (
	CACertFile   = "ca.crt"
	CAKeyFile    = "ca.key"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
)

// ClientCertFiles names the certificate and key of a client user.
func ClientCertFiles(user string) (cert, key string) {
	return "client." + user + ".crt", "client." + user + ".key"
}

// Default lifetimes of generated certificates.
const (
	DefaultCALifetime   = 10 * 365 * 24 * time.Hour
	DefaultCertLifetime = 2 * 365 * 24 * time.Hour
)

// ErrExists reports a certificate file that would be overwritten.
var ErrExists = errors.New("auth: certificate file already exists")

// CreateCA writes a new self-signed CA (ca.crt, ca.key) into dir. It
// refuses to overwrite existing files.
func CreateCA(dir string, lifetime time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl, err := template("CamusDB CA", lifetime)
	if err != nil {
		return err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return writePair(dir, CACertFile, CAKeyFile, [][]byte{der}, key)
}

// CreateNodeCert writes node.crt (followed by the CA certificate, so peers
// and clients that trust it verify the chain) and node.key into dir,
// signed by the CA in dir. hosts are the IP addresses and DNS names the
// node is reached by; the certificate serves both as server and as client
// (node-to-node) certificate.
func CreateNodeCert(dir string, hosts []string, lifetime time.Duration) error {
	if len(hosts) == 0 {
		return errors.New("auth: a node certificate needs at least one host")
	}
	tmpl, err := template("node", lifetime)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	return signed(dir, tmpl, NodeCertFile, NodeKeyFile)
}

// CreateClientCert writes client.<user>.crt/.key into dir, signed by the CA
// in dir, with the user as common name.
func CreateClientCert(dir, user string, lifetime time.Duration) error {
	if user == "" {
		return errors.New("auth: a client certificate needs a user")
	}
	tmpl, err := template(user, lifetime)
	if err != nil {
		return err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	cert, key := ClientCertFiles(user)
	return signed(dir, tmpl, cert, key)
}

func template(commonName string, lifetime time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"CamusDB"}},
		NotBefore:    now.Add(-time.Hour), // tolerate small clock differences
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}, nil
}

// signed signs tmpl with the CA of dir and writes the pair.
func signed(dir string, tmpl *x509.Certificate, certName, keyName string) error {
	ca, err := tls.LoadX509KeyPair(filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return fmt.Errorf("auth: loading the CA of %s (run create-ca first): %w", dir, err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		return err
	}
	return writePair(dir, certName, keyName, [][]byte{der, ca.Certificate[0]}, key)
}

// writePair writes the certificate chain and the key (mode 0600), refusing
// to overwrite either.
func writePair(dir, certName, keyName string, chain [][]byte, key *ecdsa.PrivateKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	var certPEM []byte
	for _, der := range chain {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{certName, certPEM}, {keyName, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}} {
		path := filepath.Join(dir, f.name)
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, keyName), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, certName), certPEM, 0o644)
}
