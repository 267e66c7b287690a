package link

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGenerateIdentity(t *testing.T) {
	id := newIdentity(t)
	cert := id.Certificate()
	if cert.IsCA {
		t.Error("certificate claims to be a CA")
	}
	if !cert.NotAfter.After(time.Now().AddDate(100, 0, 0)) {
		t.Errorf("certificate expires %v; want no practical expiry", cert.NotAfter)
	}
	if cert.SignatureAlgorithm != x509.PureEd25519 {
		t.Errorf("certificate signed with %v, want Ed25519", cert.SignatureAlgorithm)
	}
	if other := newIdentity(t); other.Pin() == id.Pin() {
		t.Error("two identities have the same pin")
	}
}

func TestIdentitySaveLoad(t *testing.T) {
	id := newIdentity(t)
	path := filepath.Join(t.TempDir(), "tls.pem")
	if err := id.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("identity file has mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pin() != id.Pin() || !bytes.Equal(got.Certificate().Raw, id.Certificate().Raw) {
		t.Error("loaded identity differs from the saved one")
	}

	if err := newIdentity(t).Save(path); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("Save over an existing file: %v, want a refusal", err)
	}
	if again, err := LoadIdentity(path); err != nil || again.Pin() != id.Pin() {
		t.Errorf("identity file changed after a refused Save: %v", err)
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o606} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadIdentity(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("LoadIdentity of a file with mode %v: %v, want a refusal", mode, err)
		}
	}

	if _, err := LoadIdentity(t.TempDir()); err == nil {
		t.Error("LoadIdentity of a directory succeeded")
	}
}

func TestParseIdentityMalformed(t *testing.T) {
	id := newIdentity(t)
	good, err := id.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	other, err := newIdentity(t).MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	key, cert := splitPEM(t, good)
	otherKey, otherCert := splitPEM(t, other)

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})

	// A certificate for the right key, signed by another key.
	tmpl := *id.Certificate()
	tmpl.SignatureAlgorithm = x509.UnknownSignatureAlgorithm
	parent := tmpl
	parent.PublicKey = &ecKey.PublicKey
	forged, err := x509.CreateCertificate(rand.Reader, &tmpl, &parent, id.PublicKey(), ecKey)
	if err != nil {
		t.Fatal(err)
	}
	forgedPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: forged})

	if _, err := ParseIdentity(append(cert, key...)); err != nil {
		t.Errorf("certificate before key: %v", err)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"key only", key},
		{"certificate only", cert},
		{"two keys", cat(key, key, cert)},
		{"two certificates", cat(key, cert, cert)},
		{"other's certificate", cat(key, otherCert)},
		{"other's key", cat(otherKey, cert)},
		{"ECDSA key", cat(ecPEM, cert)},
		{"certificate not self-signed", cat(key, forgedPEM)},
		{"trailing garbage", cat(good, []byte("garbage\n"))},
		{"extra block", cat(good, pem.EncodeToMemory(&pem.Block{Type: "NOTE", Bytes: []byte("x")}))},
		{"headers", cat(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: pemBytes(t, key)}), cert)},
		{"corrupt key", cat(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0}}), cert)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseIdentity(tt.in); err == nil {
				t.Error("ParseIdentity succeeded, want an error")
			}
		})
	}
}

func splitPEM(t *testing.T, data []byte) (key, cert []byte) {
	t.Helper()
	i := bytes.Index(data, []byte("-----BEGIN CERTIFICATE"))
	if i < 0 {
		t.Fatal("no certificate in identity PEM")
	}
	return data[:i], data[i:]
}

func pemBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func FuzzParseIdentity(f *testing.F) {
	id, err := GenerateIdentity()
	if err != nil {
		f.Fatal(err)
	}
	good, err := id.MarshalPEM()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := ParseIdentity(data)
		if err != nil {
			return
		}
		if pub, ok := id.Certificate().PublicKey.(ed25519.PublicKey); !ok || !pub.Equal(id.PublicKey()) || id.Pin().IsZero() {
			t.Fatal("parsed identity is inconsistent")
		}
		again, err := id.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		if id2, err := ParseIdentity(again); err != nil || id2.Pin() != id.Pin() {
			t.Fatalf("re-encoded identity does not parse back: %v", err)
		}
	})
}
