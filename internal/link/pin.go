package link

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// pinPrefix starts the text form of a Pin.
const pinPrefix = "ed25519:"

// A Pin is the Ed25519 public key that identifies a peer at the TLS layer.
// Its text form is "ed25519:" followed by the standard, padded base64
// encoding (RFC 4648, section 4) of the raw 32-byte key.
//
// Pins are comparable and can be used as map keys. The zero Pin matches no
// key: it is refused by [PeerSet] and by every verification.
type Pin struct {
	key [ed25519.PublicKeySize]byte
}

// PinOf returns the pin of an Ed25519 public key. It returns the zero Pin
// if pub is not 32 bytes long.
func PinOf(pub ed25519.PublicKey) Pin {
	var p Pin
	if len(pub) != ed25519.PublicKeySize {
		return Pin{}
	}
	copy(p.key[:], pub)
	return p
}

// ParsePin parses the text form of a pin, "ed25519:<base64 of the key>".
// Only the canonical encoding is accepted, so that equal pins have equal
// text, and the all-zero key is refused.
func ParsePin(s string) (Pin, error) {
	b64, ok := strings.CutPrefix(s, pinPrefix)
	if !ok {
		return Pin{}, fmt.Errorf("malformed pin %.80q: want %s<base64 of the 32-byte key>", s, pinPrefix)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(key) != ed25519.PublicKeySize || base64.StdEncoding.EncodeToString(key) != b64 {
		return Pin{}, fmt.Errorf("malformed pin %.80q: want %s<base64 of the 32-byte key>", s, pinPrefix)
	}
	p := PinOf(key)
	if p.IsZero() {
		return Pin{}, errors.New("malformed pin: the all-zero key is not a key")
	}
	return p, nil
}

// String returns the text form of p, "ed25519:<base64 of the key>".
func (p Pin) String() string {
	return pinPrefix + base64.StdEncoding.EncodeToString(p.key[:])
}

// IsZero reports whether p is the zero Pin, which matches no key.
func (p Pin) IsZero() bool {
	return p == Pin{}
}

// PublicKey returns a copy of the pinned key.
func (p Pin) PublicKey() ed25519.PublicKey {
	return ed25519.PublicKey(append([]byte(nil), p.key[:]...))
}

// MarshalText implements encoding.TextMarshaler; it refuses the zero Pin.
func (p Pin) MarshalText() ([]byte, error) {
	if p.IsZero() {
		return nil, errors.New("can't encode the zero pin")
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParsePin].
func (p *Pin) UnmarshalText(text []byte) error {
	q, err := ParsePin(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
