package rpc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// testCA signs node certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// tlsConfigs returns the server and client configurations of a node whose
// certificate this CA signed.
func (ca *testCA) tlsConfigs(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pair := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13},
		&tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: ca.pool, MinVersion: tls.VersionTLS13}
}

// TestMutualTLS: nodes with certificates of the cluster CA exchange Raft
// messages; a node with a certificate of another CA can neither send to
// them nor receive from them.
func TestMutualTLS(t *testing.T) {
	cluster, foreign := newTestCA(t), newTestCA(t)
	lns, peers := loopbackPeers(t, 3)
	nodes := make([]*testNode, 3)
	for i := range nodes {
		ca := cluster
		if i == 2 {
			ca = foreign
		}
		serverTLS, clientTLS := ca.tlsConfigs(t)
		clock := hlc.NewClock(nil)
		nw, err := NewNetwork(Config{NodeID: uint64(i + 1), Peers: peers, Clock: clock, ServerTLS: serverTLS, ClientTLS: clientTLS})
		if err != nil {
			t.Fatal(err)
		}
		tr := NewRaftTransport(nw)
		h := newRecorder()
		tr.SetHandler(h)
		if err := nw.Serve(lns[i]); err != nil {
			t.Fatal(err)
		}
		nodes[i] = &testNode{net: nw, transport: tr, handler: h, clock: clock}
		t.Cleanup(func() { tr.Close(); nw.Close() })
	}
	nodes[0].transport.Send([]replica.Message{msg(2, 1)})
	h := nodes[1].handler
	h.waitFor(t, "a message between nodes of the cluster CA", func() bool { return len(h.got) == 1 })

	nodes[2].transport.Send([]replica.Message{msg(1, 1)})
	h3 := nodes[2].handler
	h3.waitFor(t, "the foreign node finding node 1 unreachable", func() bool { return h3.unreachable[1] })
	nodes[0].transport.Send([]replica.Message{msg(3, 1)})
	h1 := nodes[0].handler
	h1.waitFor(t, "node 1 finding the foreign node unreachable", func() bool { return h1.unreachable[3] })
	h1.mu.Lock()
	got := len(h1.got)
	h1.mu.Unlock()
	if got != 0 {
		t.Fatalf("node 1 received %d messages from the foreign node", got)
	}
	if _, err := NewNetwork(Config{NodeID: 1, Peers: peers, Clock: hlc.NewClock(nil), ServerTLS: &tls.Config{}}); err == nil {
		t.Fatal("ServerTLS without ClientTLS accepted")
	}
}
