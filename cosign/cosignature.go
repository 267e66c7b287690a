package cosign

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// SignatureType is the signed-note signature type of timestamped Ed25519
// checkpoint cosignatures (c2sp.org/signed-note, "Signature types";
// c2sp.org/tlog-cosignature, "Format").
const SignatureType = 0x04

// SignatureSize is the size of a cosignature after its 4-byte key ID: the
// timestamped_signature of c2sp.org/tlog-cosignature, "Format", an 8-byte
// big-endian timestamp followed by a 64-byte Ed25519 signature.
const SignatureSize = 8 + ed25519.SignatureSize

// MaxTimestamp is the largest timestamp accepted, 9999-12-31T23:59:59Z.
// c2sp.org/tlog-cosignature, "Format", allows up to 2^63-1 and lets verifiers
// reject timestamps in the future; this bound keeps every accepted timestamp
// comparable as a time.Time.
const MaxTimestamp = 253402300799

// header is the first line of the Ed25519 signed message
// (c2sp.org/tlog-cosignature, "Ed25519 signed message").
const header = "cosignature/v1\n"

var (
	// ErrMalformedKey is wrapped by errors for a key that is not a valid
	// cosigner key encoding.
	ErrMalformedKey = errors.New("malformed cosigner key")

	// ErrMalformedCosignature is wrapped by errors for a signature line or
	// signature that is not a well-formed cosignature.
	ErrMalformedCosignature = errors.New("malformed cosignature")

	// ErrInvalidCosignature is wrapped when a cosignature by a known key does
	// not verify, or a required cosignature is missing.
	ErrInvalidCosignature = errors.New("invalid cosignature")
)

// KeyID returns the key ID of an Ed25519 cosigner key (c2sp.org/tlog-cosignature,
// "Format"): SHA-256(name || "\n" || 0x04 || public key)[:4], big-endian.
func KeyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', SignatureType})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validName reports whether name may be a signed-note key name: non-empty
// UTF-8 without Unicode spaces, plus signs (c2sp.org/signed-note, "Format")
// or ASCII control characters (which no signed note may contain).
func validName(name string) bool {
	if name == "" || !utf8.ValidString(name) || strings.Contains(name, "+") {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r < 0x20 }) < 0
}

// message returns the signed message of c2sp.org/tlog-cosignature, "Ed25519
// signed message": the header line, the timestamp line, and the note text,
// which must be a canonical checkpoint.
func message(text []byte, ts uint64) ([]byte, error) {
	c, err := tlog.ParseCheckpoint(string(text))
	if err != nil {
		return nil, err
	}
	if c.String() != string(text) {
		return nil, fmt.Errorf("%w: not in canonical form", tlog.ErrBadCheckpoint)
	}
	m := make([]byte, 0, len(header)+len("time \n")+20+len(text))
	m = append(m, header...)
	m = append(m, "time "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, text...), nil
}

// validTimestamp reports whether ts is a timestamp this package accepts.
func validTimestamp(ts uint64) bool { return ts >= 1 && ts <= MaxTimestamp }

// Signer produces c2sp.org/tlog-cosignature v1 cosignatures. It implements
// note.Signer, so note.Sign(&note.Note{Text: checkpoint}, s) cosigns a
// checkpoint. It is safe for concurrent use if its clock is.
type Signer struct {
	v    Verifier
	priv ed25519.PrivateKey
	now  func() time.Time
}

var _ note.Signer = (*Signer)(nil)

// NewSigner returns a Signer named name that signs with key and timestamps
// each signature with now() truncated to the second. A nil now means
// time.Now.
func NewSigner(name string, key ed25519.PrivateKey, now func() time.Time) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrMalformedKey, len(key))
	}
	pub := key.Public().(ed25519.PublicKey)
	v, err := NewVerifierFromPublicKey(name, pub)
	if err != nil {
		return nil, err
	}
	// Refuse a private key whose second half is not its public key: Sign
	// would produce signatures that verify under no key.
	if !ed25519.NewKeyFromSeed(key.Seed()).Equal(key) {
		return nil, fmt.Errorf("%w: Ed25519 private key inconsistent with its seed", ErrMalformedKey)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{v: *v, priv: key, now: now}, nil
}

// NewSignerFromKey parses a private key (see "Key encodings" in the package
// documentation) and returns its Signer.
func NewSignerFromKey(skey string, now func() time.Time) (*Signer, error) {
	name, key, err := ParsePrivateKey(skey)
	if err != nil {
		return nil, err
	}
	return NewSigner(name, key, now)
}

// Name returns the cosigner name.
func (s *Signer) Name() string { return s.v.name }

// KeyHash returns the key ID.
func (s *Signer) KeyHash() uint32 { return s.v.id }

// Verifier returns the Verifier of s's public key.
func (s *Signer) Verifier() *Verifier { v := s.v; return &v }

// Sign returns the timestamped_signature (timestamp || Ed25519 signature) of
// msg, which must be a canonical checkpoint note text; note.Sign prepends the
// key ID.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sig, _, err := s.sign(msg)
	return sig, err
}

// Cosign cosigns the checkpoint note text and returns the signature, ready to
// be sent as a line of a c2sp.org/tlog-witness add-checkpoint response
// ([FormatLines]), and its timestamp.
func (s *Signer) Cosign(text string) (note.Signature, time.Time, error) {
	sig, ts, err := s.sign([]byte(text))
	if err != nil {
		return note.Signature{}, time.Time{}, err
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+SignatureSize), s.v.id)
	b = append(b, sig...)
	return note.Signature{Name: s.v.name, Hash: s.v.id, Base64: base64.StdEncoding.EncodeToString(b)}, ts, nil
}

func (s *Signer) sign(msg []byte) ([]byte, time.Time, error) {
	t := s.now()
	ts := t.Unix()
	if ts < 1 || ts > MaxTimestamp {
		return nil, time.Time{}, fmt.Errorf("cosigner clock reads %v, outside [1970-01-01T00:00:01Z, 9999-12-31T23:59:59Z]", t)
	}
	m, err := message(msg, uint64(ts))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("refusing to cosign: %w", err)
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, SignatureSize), uint64(ts))
	sig = append(sig, ed25519.Sign(s.priv, m)...)
	return sig, time.Unix(ts, 0).UTC(), nil
}

// Verifier verifies c2sp.org/tlog-cosignature v1 cosignatures by one key. It
// implements note.Verifier.
type Verifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

var _ note.Verifier = (*Verifier)(nil)

// NewVerifierFromPublicKey returns the Verifier of an Ed25519 public key.
func NewVerifierFromPublicKey(name string, pub ed25519.PublicKey) (*Verifier, error) {
	if !validName(name) {
		return nil, fmt.Errorf("%w: invalid key name %q (must be non-empty, without spaces, '+' or control characters)", ErrMalformedKey, name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrMalformedKey, len(pub))
	}
	pub = append(ed25519.PublicKey(nil), pub...)
	return &Verifier{name: name, id: KeyID(name, pub), pub: pub}, nil
}

// Name returns the cosigner name.
func (v *Verifier) Name() string { return v.name }

// KeyHash returns the key ID.
func (v *Verifier) KeyHash() uint32 { return v.id }

// PublicKey returns a copy of the Ed25519 public key.
func (v *Verifier) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey(nil), v.pub...) }

// String returns the verifier key (vkey) encoding of v.
func (v *Verifier) String() string {
	return fmt.Sprintf("%s+%08x+%s", v.name, v.id,
		base64.StdEncoding.EncodeToString(append([]byte{SignatureType}, v.pub...)))
}

// Verify reports whether sig (the signature bytes after the key ID) is a
// valid cosignature of msg, a canonical checkpoint note text, with a
// timestamp in [1, MaxTimestamp].
func (v *Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if !validTimestamp(ts) {
		return false
	}
	m, err := message(msg, ts)
	if err != nil {
		return false
	}
	return ed25519.Verify(v.pub, m, sig[8:])
}

// decode returns the timestamp and the timestamped_signature (after the key
// ID) of a note signature, checking only its shape. Like golang.org/x/mod/sumdb/note, which
// produced most note.Signature values, it accepts base64 with non-zero padding
// bits; ParseLine does not.
func decode(sig note.Signature) (uint64, []byte, error) {
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: signature by %s is not base64", ErrMalformedCosignature, sig.Name)
	}
	if len(b) != 4+SignatureSize {
		return 0, nil, fmt.Errorf("%w: signature by %s has %d bytes, want %d", ErrMalformedCosignature, sig.Name, len(b), 4+SignatureSize)
	}
	if id := binary.BigEndian.Uint32(b); id != sig.Hash {
		return 0, nil, fmt.Errorf("%w: signature by %s has key ID %08x, line says %08x", ErrMalformedCosignature, sig.Name, id, sig.Hash)
	}
	ts := binary.BigEndian.Uint64(b[4:])
	if !validTimestamp(ts) {
		return 0, nil, fmt.Errorf("%w: signature by %s has timestamp %d, outside [1, %d]", ErrMalformedCosignature, sig.Name, ts, uint64(MaxTimestamp))
	}
	return ts, b[4:], nil
}

// Timestamp returns the time at which a cosignature says it was made
// (c2sp.org/tlog-cosignature, "Format"). It checks the signature's shape
// (4-byte key ID matching sig.Hash, 8-byte timestamp in [1, MaxTimestamp],
// 64 bytes of signature) but does not verify it: use [VerifyCosignature], or
// take sig from a note opened with a Verifier.
func Timestamp(sig note.Signature) (time.Time, error) {
	ts, _, err := decode(sig)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(ts), 0).UTC(), nil
}

// VerifyCosignature verifies that sig is a cosignature by v of text, the
// note text of a canonical checkpoint, and returns its timestamp.
func VerifyCosignature(text string, sig note.Signature, v *Verifier) (time.Time, error) {
	if sig.Name != v.name || sig.Hash != v.id {
		return time.Time{}, fmt.Errorf("%w: signature by %s/%08x, want %s/%08x", ErrInvalidCosignature, sig.Name, sig.Hash, v.name, v.id)
	}
	ts, raw, err := decode(sig)
	if err != nil {
		return time.Time{}, err
	}
	if !v.Verify([]byte(text), raw) {
		return time.Time{}, fmt.Errorf("%w: signature by %s/%08x does not verify", ErrInvalidCosignature, v.name, v.id)
	}
	return time.Unix(int64(ts), 0).UTC(), nil
}
