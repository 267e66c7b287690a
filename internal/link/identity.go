package link

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// maxIdentityFile bounds the size of an identity file.
const maxIdentityFile = 16 << 10

// PEM block types of an identity file.
const (
	pemKey  = "PRIVATE KEY" // PKCS #8, RFC 5208 / RFC 8410
	pemCert = "CERTIFICATE"
)

// An Identity is a node's TLS identity: an Ed25519 private key and a
// self-signed certificate for its public key. The certificate has no CA
// semantics and, in practice, no expiry; it only carries the key into TLS.
// Peers trust the key through its [Pin].
type Identity struct {
	key  ed25519.PrivateKey
	cert *x509.Certificate
}

// GenerateIdentity returns a new Identity with a fresh key.
func GenerateIdentity() (*Identity, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("couldn't generate TLS key: %w", err)
	}
	return NewIdentity(priv)
}

// NewIdentity returns the Identity of an existing key, with a new
// self-signed certificate.
func NewIdentity(priv ed25519.PrivateKey) (*Identity, error) {
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: "tillit peer " + PinOf(pub).String()},
		// Validity is not used for trust (see the package documentation).
		// RFC 5280, section 4.1.2.5: 99991231235959Z means "no
		// well-defined expiration date".
		NotBefore:             time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("couldn't create TLS certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("couldn't parse new TLS certificate: %w", err)
	}
	return &Identity{key: priv, cert: cert}, nil
}

// Pin returns the pin that peers use to recognise this identity.
func (id *Identity) Pin() Pin {
	return PinOf(id.PublicKey())
}

// PublicKey returns the identity's public key.
func (id *Identity) PublicKey() ed25519.PublicKey {
	return id.key.Public().(ed25519.PublicKey)
}

// Certificate returns the identity's self-signed certificate.
func (id *Identity) Certificate() *x509.Certificate {
	return id.cert
}

// TLSCertificate returns the identity as a tls.Certificate.
func (id *Identity) TLSCertificate() tls.Certificate {
	return tls.Certificate{
		Certificate: [][]byte{id.cert.Raw},
		PrivateKey:  id.key,
		Leaf:        id.cert,
	}
}

// MarshalPEM returns the identity file contents: a PKCS #8 "PRIVATE KEY"
// block followed by a "CERTIFICATE" block. They contain the private key.
func (id *Identity) MarshalPEM() ([]byte, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(id.key)
	if err != nil {
		return nil, fmt.Errorf("couldn't encode TLS key: %w", err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: pemKey, Bytes: pkcs8})
	pem.Encode(&b, &pem.Block{Type: pemCert, Bytes: id.cert.Raw})
	return b.Bytes(), nil
}

// Save writes the identity to a new file at path with mode 0600 (see
// [Identity.MarshalPEM]). It refuses to overwrite an existing file.
func (id *Identity) Save(path string) error {
	data, err := id.MarshalPEM()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("identity file %s already exists; refusing to overwrite it", path)
	} else if err != nil {
		return fmt.Errorf("couldn't create identity file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("couldn't write identity file: %w", err)
	}
	return nil
}

// LoadIdentity reads an identity file written by [Identity.Save]. It
// refuses a file that is not a regular file or that group or others may
// access (the file holds the private key; chmod 600 fixes it).
func LoadIdentity(path string) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("couldn't read identity file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("couldn't read identity file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("identity file %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("identity file %s has mode %v; it holds a private key and must not be accessible to others (chmod 600)", path, fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIdentityFile+1))
	if err != nil {
		return nil, fmt.Errorf("couldn't read identity file: %w", err)
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity file %s is too large to be an identity", path)
	}
	id, err := ParseIdentity(data)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return id, nil
}

// ParseIdentity parses the contents of an identity file: exactly one
// PKCS #8 Ed25519 "PRIVATE KEY" block and one "CERTIFICATE" block, in any
// order, and nothing else but white space. The certificate must be for the
// key and correctly self-signed.
func ParseIdentity(data []byte) (*Identity, error) {
	var keyDER, certDER []byte
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if len(b.Headers) != 0 {
			return nil, fmt.Errorf("unexpected headers in PEM block %q", b.Type)
		}
		switch {
		case b.Type == pemKey && keyDER == nil:
			keyDER = b.Bytes
		case b.Type == pemCert && certDER == nil:
			certDER = b.Bytes
		default:
			return nil, fmt.Errorf("unexpected or repeated PEM block %q", b.Type)
		}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("unexpected data outside PEM blocks")
	}
	if keyDER == nil || certDER == nil {
		return nil, errors.New("want one PRIVATE KEY and one CERTIFICATE PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("couldn't parse private key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want Ed25519", k)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("couldn't parse certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("certificate is not for the private key")
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, fmt.Errorf("certificate is not self-signed by the key: %w", err)
	}
	id := &Identity{key: key, cert: cert}
	if id.Pin().IsZero() {
		return nil, errors.New("the all-zero key is not a key")
	}
	return id, nil
}
