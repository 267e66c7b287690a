package link

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
)

// ErrPinMismatch is returned (wrapped) when a peer's TLS certificate is not
// exactly one certificate for a pinned Ed25519 key. Retrying cannot fix it:
// either the endpoint is not the peer, or the pins are out of date.
var ErrPinMismatch = errors.New("peer key is not pinned")

// A PeerSet is the set of pins a server accepts client certificates from.
// It is safe for concurrent use, and [PeerSet.Replace] takes effect for
// every handshake that starts after it returns. The zero PeerSet is empty
// and accepts nobody.
type PeerSet struct {
	pins atomic.Pointer[map[Pin]struct{}]
}

// NewPeerSet returns a PeerSet holding pins. It refuses the zero Pin.
func NewPeerSet(pins ...Pin) (*PeerSet, error) {
	s := new(PeerSet)
	if err := s.Replace(pins...); err != nil {
		return nil, err
	}
	return s, nil
}

// Replace atomically replaces the set's pins with pins. If a pin is the
// zero Pin it returns an error and leaves the set unchanged. Connections
// already established are not affected.
func (s *PeerSet) Replace(pins ...Pin) error {
	m := make(map[Pin]struct{}, len(pins))
	for _, p := range pins {
		if p.IsZero() {
			return errors.New("can't add the zero pin to a peer set")
		}
		m[p] = struct{}{}
	}
	s.pins.Store(&m)
	return nil
}

// Contains reports whether p is in the set. A nil PeerSet is empty.
func (s *PeerSet) Contains(p Pin) bool {
	if s == nil {
		return false
	}
	m := s.pins.Load()
	if m == nil || p.IsZero() {
		return false
	}
	_, ok := (*m)[p]
	return ok
}

// Pins returns the set's pins, sorted by their text form.
func (s *PeerSet) Pins() []Pin {
	if s == nil {
		return nil
	}
	m := s.pins.Load()
	if m == nil {
		return nil
	}
	pins := make([]Pin, 0, len(*m))
	for p := range *m {
		pins = append(pins, p)
	}
	slices.SortFunc(pins, func(a, b Pin) int {
		return bytes.Compare(a.key[:], b.key[:])
	})
	return pins
}

// ServerConfig returns a TLS 1.3 server configuration that presents id and
// accepts only clients whose certificate is for a key in peers, checked at
// the handshake (see the package documentation). peers is consulted at
// every handshake, so replacing its contents applies to new connections.
func ServerConfig(id *Identity, peers *PeerSet) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.TLSCertificate()},
		// Any certificate is requested and the chain is not verified
		// against a CA; VerifyConnection checks the pin instead.
		ClientAuth: tls.RequireAnyClientCert,
		// Every connection proves possession of the key afresh.
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			pin, err := peerPin(cs)
			if err != nil {
				return err
			}
			if !peers.Contains(pin) {
				return fmt.Errorf("%w: client key %s is not in the peer set", ErrPinMismatch, pin)
			}
			return nil
		},
	}
}

// ClientConfig returns a TLS 1.3 client configuration that presents id and
// accepts only a server whose certificate is for the key peer, checked at
// the handshake (see the package documentation). With the zero Pin it
// accepts no server.
func ClientConfig(id *Identity, peer Pin) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.TLSCertificate()},
		// The CA chain and host name checks are replaced by the pin check
		// in VerifyConnection, which still runs with InsecureSkipVerify.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			pin, err := peerPin(cs)
			if err != nil {
				return err
			}
			if peer.IsZero() || pin != peer {
				return fmt.Errorf("%w: server key is %s, want %s", ErrPinMismatch, pin, peer)
			}
			return nil
		},
	}
}

// peerPin returns the pin of the certificate a peer presented, which must
// be a single certificate for a non-zero Ed25519 key.
func peerPin(cs tls.ConnectionState) (Pin, error) {
	if n := len(cs.PeerCertificates); n != 1 {
		return Pin{}, fmt.Errorf("%w: peer presented %d certificates, want exactly 1", ErrPinMismatch, n)
	}
	key, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return Pin{}, fmt.Errorf("%w: peer key is %T, want Ed25519", ErrPinMismatch, cs.PeerCertificates[0].PublicKey)
	}
	pin := PinOf(key)
	if pin.IsZero() {
		return Pin{}, fmt.Errorf("%w: peer key is all zeroes", ErrPinMismatch)
	}
	return pin, nil
}

// PeerFromState returns the pin of the peer of a completed handshake made
// with [ServerConfig] or [ClientConfig], for authorization.
func PeerFromState(cs tls.ConnectionState) (Pin, bool) {
	if !cs.HandshakeComplete {
		return Pin{}, false
	}
	pin, err := peerPin(cs)
	if err != nil {
		return Pin{}, false
	}
	return pin, true
}

// PeerFromRequest returns the pin of the peer that sent r to a server
// configured with [ServerConfig]: the key that was verified against the
// PeerSet when the connection was established. It reports false for a
// request that did not come over such a connection.
func PeerFromRequest(r *http.Request) (Pin, bool) {
	if r.TLS == nil {
		return Pin{}, false
	}
	return PeerFromState(*r.TLS)
}
