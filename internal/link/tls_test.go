package link

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandshakePinned(t *testing.T) {
	server, client := newIdentity(t), newIdentity(t)
	scfg := ServerConfig(server, newPeerSet(t, client.Pin()))
	cs, serr, cerr := handshake(t, scfg, ClientConfig(client, server.Pin()))
	if serr != nil || cerr != nil {
		t.Fatalf("handshake failed: server: %v; client: %v", serr, cerr)
	}
	if cs.Version != tls.VersionTLS13 {
		t.Errorf("negotiated version %x, want TLS 1.3", cs.Version)
	}
	if pin, ok := PeerFromState(cs); !ok || pin != client.Pin() {
		t.Errorf("PeerFromState = %v, %v; want %v", pin, ok, client.Pin())
	}
	if cs.DidResume {
		t.Error("server resumed a session")
	}
}

func TestHandshakeUnknownClientRefused(t *testing.T) {
	server, client, stranger := newIdentity(t), newIdentity(t), newIdentity(t)
	scfg := ServerConfig(server, newPeerSet(t, client.Pin()))
	_, serr, cerr := handshake(t, scfg, ClientConfig(stranger, server.Pin()))
	if !errors.Is(serr, ErrPinMismatch) {
		t.Errorf("server handshake: %v, want ErrPinMismatch", serr)
	}
	if serr != nil && !strings.Contains(serr.Error(), stranger.Pin().String()) {
		t.Errorf("server error %q does not name the refused key", serr)
	}
	if cerr == nil || !strings.Contains(cerr.Error(), "bad certificate") {
		t.Errorf("client: %v, want a bad certificate alert", cerr)
	}
}

func TestHandshakeUnexpectedServerRefused(t *testing.T) {
	server, impostor, client := newIdentity(t), newIdentity(t), newIdentity(t)
	scfg := ServerConfig(impostor, newPeerSet(t, client.Pin()))
	_, serr, cerr := handshake(t, scfg, ClientConfig(client, server.Pin()))
	if !errors.Is(cerr, ErrPinMismatch) {
		t.Errorf("client handshake: %v, want ErrPinMismatch", cerr)
	}
	if cerr != nil && !strings.Contains(cerr.Error(), impostor.Pin().String()) {
		t.Errorf("client error %q does not name the refused key", cerr)
	}
	if serr == nil {
		t.Error("server handshake succeeded")
	}

	// The zero pin matches nobody.
	_, _, cerr = handshake(t, scfg, ClientConfig(client, Pin{}))
	if !errors.Is(cerr, ErrPinMismatch) {
		t.Errorf("client with the zero pin: %v, want ErrPinMismatch", cerr)
	}
}

func TestHandshakeCertificateShape(t *testing.T) {
	server, client := newIdentity(t), newIdentity(t)
	peers := newPeerSet(t, client.Pin())

	// Two certificates, the first for the pinned key.
	chain := ServerConfig(server, peers)
	chain.Certificates[0].Certificate = append(chain.Certificates[0].Certificate, server.Certificate().Raw)
	_, _, cerr := handshake(t, chain, ClientConfig(client, server.Pin()))
	if !errors.Is(cerr, ErrPinMismatch) || !strings.Contains(cerr.Error(), "2 certificates") {
		t.Errorf("server sending two certificates: client %v, want ErrPinMismatch", cerr)
	}

	// An ECDSA certificate.
	ec := ServerConfig(server, peers)
	ec.Certificates = []tls.Certificate{ecdsaCertificate(t)}
	_, _, cerr = handshake(t, ec, ClientConfig(client, server.Pin()))
	if !errors.Is(cerr, ErrPinMismatch) || !strings.Contains(cerr.Error(), "want Ed25519") {
		t.Errorf("server sending an ECDSA certificate: client %v, want ErrPinMismatch", cerr)
	}
	ccfg := ClientConfig(client, server.Pin())
	ccfg.Certificates = []tls.Certificate{ecdsaCertificate(t)}
	_, serr, _ := handshake(t, ServerConfig(server, peers), ccfg)
	if !errors.Is(serr, ErrPinMismatch) {
		t.Errorf("client sending an ECDSA certificate: server %v, want ErrPinMismatch", serr)
	}

	// No client certificate at all.
	ccfg = ClientConfig(client, server.Pin())
	ccfg.Certificates = nil
	_, serr, _ = handshake(t, ServerConfig(server, peers), ccfg)
	if serr == nil {
		t.Error("server accepted a client without a certificate")
	}
}

func ecdsaCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLS12Refused(t *testing.T) {
	server, client := newIdentity(t), newIdentity(t)
	peers := newPeerSet(t, client.Pin())

	old := ClientConfig(client, server.Pin())
	old.MinVersion, old.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	_, serr, cerr := handshake(t, ServerConfig(server, peers), old)
	if serr == nil || cerr == nil {
		t.Errorf("TLS 1.2 client: server %v, client %v; want both to fail", serr, cerr)
	}

	oldServer := ServerConfig(server, peers)
	oldServer.MinVersion, oldServer.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	_, serr, cerr = handshake(t, oldServer, ClientConfig(client, server.Pin()))
	if serr == nil || cerr == nil {
		t.Errorf("TLS 1.2 server: server %v, client %v; want both to fail", serr, cerr)
	}
}

func TestPeerSetUpdate(t *testing.T) {
	server, a, b := newIdentity(t), newIdentity(t), newIdentity(t)
	peers := newPeerSet(t, a.Pin())
	scfg := ServerConfig(server, peers)
	try := func(id *Identity) error {
		_, serr, _ := handshake(t, scfg, ClientConfig(id, server.Pin()))
		return serr
	}
	if err := try(a); err != nil {
		t.Fatalf("a refused: %v", err)
	}
	if err := try(b); !errors.Is(err, ErrPinMismatch) {
		t.Fatalf("b before the amendment: %v, want ErrPinMismatch", err)
	}
	if err := peers.Replace(a.Pin(), b.Pin()); err != nil {
		t.Fatal(err)
	}
	if err := try(b); err != nil {
		t.Errorf("b after it was added: %v", err)
	}
	if err := peers.Replace(b.Pin()); err != nil {
		t.Fatal(err)
	}
	if err := try(a); !errors.Is(err, ErrPinMismatch) {
		t.Errorf("a after it was removed: %v, want ErrPinMismatch", err)
	}
	if err := peers.Replace(a.Pin(), Pin{}); err == nil {
		t.Error("Replace accepted the zero pin")
	}
	if got := peers.Pins(); len(got) != 1 || got[0] != b.Pin() {
		t.Errorf("after a refused Replace, Pins() = %v, want [%v]", got, b.Pin())
	}
	var empty PeerSet
	if empty.Contains(a.Pin()) || empty.Contains(Pin{}) || len(empty.Pins()) != 0 {
		t.Error("the zero PeerSet is not empty")
	}
}

func TestPeerFromRequest(t *testing.T) {
	server, a, b := newIdentity(t), newIdentity(t), newIdentity(t)
	url := startServer(t, server, newPeerSet(t, a.Pin(), b.Pin()), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pin, ok := PeerFromRequest(r)
		fmt.Fprintf(w, "%v %v", pin, ok)
	}))
	for _, id := range []*Identity{a, b} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: ClientConfig(id, server.Pin())}, Timeout: testTimeout}
		resp, err := c.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := id.Pin().String() + " true"; string(body) != want {
			t.Errorf("handler saw %q, want %q", body, want)
		}
		c.CloseIdleConnections()
	}
	if pin, ok := PeerFromRequest(httptest.NewRequest("GET", "/", nil)); ok {
		t.Errorf("PeerFromRequest without TLS = %v, true", pin)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	if pin, ok := PeerFromRequest(r); ok {
		t.Errorf("PeerFromRequest without a client certificate = %v, true", pin)
	}
}
