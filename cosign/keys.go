package cosign

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// privatePrefix starts a private key (see "Key encodings" in the package
// documentation).
const privatePrefix = "PRIVATE+KEY+"

// GenerateKey returns a new cosigner private key and its verifier key for
// name, in the encodings of the package documentation.
func GenerateKey(name string) (skey, vkey string, err error) {
	if !validName(name) {
		return "", "", fmt.Errorf("%w: invalid key name %q (must be non-empty, without spaces, '+' or control characters)", ErrMalformedKey, name)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("couldn't generate cosigner key: %w", err)
	}
	skey, err = MarshalPrivateKey(name, priv)
	if err != nil {
		return "", "", err
	}
	v, err := NewVerifierFromPublicKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return "", "", err
	}
	return skey, v.String(), nil
}

// MarshalPrivateKey encodes a cosigner private key as
// PRIVATE+KEY+<name>+<key ID>+base64(0x04 || seed).
func MarshalPrivateKey(name string, key ed25519.PrivateKey) (string, error) {
	s, err := NewSigner(name, key, nil)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%s+%08x+%s", privatePrefix, name, s.v.id,
		base64.StdEncoding.EncodeToString(append([]byte{SignatureType}, key.Seed()...))), nil
}

// ParsePrivateKey parses a private key encoded by [MarshalPrivateKey]. It
// refuses a key ID that is not 8 lowercase hex digits or not the key's,
// non-canonical base64, a type other than 0x04 (including the 0x01 of
// signed-note Ed25519 log keys) and a seed that is not 32 bytes.
func ParsePrivateKey(skey string) (name string, key ed25519.PrivateKey, err error) {
	rest, ok := strings.CutPrefix(skey, privatePrefix)
	if !ok {
		return "", nil, fmt.Errorf("%w: private key must start with %s", ErrMalformedKey, privatePrefix)
	}
	name, id, seed, err := splitKey(rest)
	if err != nil {
		return "", nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return "", nil, fmt.Errorf("%w: Ed25519 seed of %d bytes", ErrMalformedKey, len(seed))
	}
	key = ed25519.NewKeyFromSeed(seed)
	if want := KeyID(name, key.Public().(ed25519.PublicKey)); id != want {
		return "", nil, fmt.Errorf("%w: key ID %08x, the key's is %08x", ErrMalformedKey, id, want)
	}
	return name, key, nil
}

// NewVerifier parses a verifier key <name>+<key ID>+base64(0x04 || public key)
// (c2sp.org/tlog-cosignature, "Format"; c2sp.org/signed-note, "Verifier
// keys"). It refuses a key ID that is not 8 lowercase hex digits or not the
// key's, non-canonical base64, another signature type, and a key that is not
// 32 bytes.
func NewVerifier(vkey string) (*Verifier, error) {
	name, id, pub, err := splitKey(vkey)
	if err != nil {
		return nil, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrMalformedKey, len(pub))
	}
	v, err := NewVerifierFromPublicKey(name, pub)
	if err != nil {
		return nil, err
	}
	if id != v.id {
		return nil, fmt.Errorf("%w: key ID %08x, the key's is %08x", ErrMalformedKey, id, v.id)
	}
	return v, nil
}

// splitKey splits <name>+<key ID>+base64(0x04 || key material) and checks
// everything but the key material's length and the key ID's value.
func splitKey(s string) (name string, id uint32, key []byte, err error) {
	name, typ, key, id, err := splitVKey(s)
	if err != nil {
		return "", 0, nil, err
	}
	if typ != SignatureType {
		return "", 0, nil, fmt.Errorf("%w: %s", ErrMalformedKey, typeName(typ))
	}
	return name, id, key, nil
}

// splitVKey splits any signed-note verifier key into its name, key ID,
// signature type and key material, strictly.
func splitVKey(s string) (name string, typ byte, key []byte, id uint32, err error) {
	name, rest, ok1 := strings.Cut(s, "+")
	hex, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return "", 0, nil, 0, fmt.Errorf("%w: want <name>+<key ID>+<base64 key>", ErrMalformedKey)
	}
	if !validName(name) {
		return "", 0, nil, 0, fmt.Errorf("%w: invalid key name %q", ErrMalformedKey, name)
	}
	if len(hex) != 8 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", 0, nil, 0, fmt.Errorf("%w: key ID %q is not 8 lowercase hex digits", ErrMalformedKey, hex)
	}
	for _, c := range []byte(hex) {
		v := c - '0'
		if c >= 'a' {
			v = c - 'a' + 10
		}
		id = id<<4 | uint32(v)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(b) == 0 || base64.StdEncoding.EncodeToString(b) != b64 {
		return "", 0, nil, 0, fmt.Errorf("%w: key is not canonical base64", ErrMalformedKey)
	}
	return name, b[0], b[1:], id, nil
}

// typeName explains a signed-note signature type that is not 0x04.
func typeName(typ byte) string {
	switch typ {
	case 0x01:
		return "signature type 0x01 is a signed-note Ed25519 key (a log key), not a cosigner key (0x04)"
	case 0x06:
		return "signature type 0x06 (ML-DSA-44 cosignatures) is not supported; want 0x04"
	}
	return fmt.Sprintf("signature type 0x%02x, want 0x04", typ)
}
