// Package keys reads and writes the Ed25519 signed-note keys of a log: the
// private key file (c2sp.org/signed-note encoding "PRIVATE+KEY+<name>+<id>+<key>",
// written with mode 0600) and the verifier key "<name>+<id>+<key>".
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// maxKeyFile bounds a key file's size.
const maxKeyFile = 4 << 10

// Generate returns a new private key and its verifier key for name.
func Generate(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("couldn't generate key %q: %w", name, err)
	}
	return skey, vkey, nil
}

// Write writes a private key to path with mode 0600. It refuses to
// overwrite an existing file.
func Write(path, skey string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key file %s already exists; refusing to overwrite it", path)
	} else if err != nil {
		return fmt.Errorf("couldn't create key file: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("couldn't write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("couldn't write key file: %w", err)
	}
	return f.Close()
}

// Load reads a private key file and returns its signer, verifier and
// verifier key. It refuses a key file readable by group or others.
func Load(path string) (note.Signer, note.Verifier, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("couldn't read key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, "", fmt.Errorf("key file %s has mode %v; it must not be readable by others (chmod 600)", path, fi.Mode().Perm())
	}
	if fi.Size() > maxKeyFile {
		return nil, nil, "", fmt.Errorf("key file %s is too large to be a key", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("couldn't read key file: %w", err)
	}
	return Parse(strings.TrimSpace(string(b)))
}

// Parse parses a private key and derives its verifier key.
func Parse(skey string) (note.Signer, note.Verifier, string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, "", errors.New("malformed private key (want PRIVATE+KEY+<name>+<id>+<key>)")
	}
	// PRIVATE+KEY+<name>+<id>+<key>: names have no '+', but base64 may.
	parts := strings.SplitN(strings.TrimPrefix(skey, "PRIVATE+KEY+"), "+", 3)
	if len(parts) != 3 {
		return nil, nil, "", errors.New("malformed private key (want PRIVATE+KEY+<name>+<id>+<key>)")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, nil, "", errors.New("private key is not an Ed25519 signed-note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, nil, "", fmt.Errorf("couldn't derive verifier key: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, "", fmt.Errorf("couldn't derive verifier key: %w", err)
	}
	return s, v, vkey, nil
}

// ParseVerifier parses a verifier key given inline or as the path of a file
// holding one.
func ParseVerifier(vkeyOrFile string) (note.Verifier, error) {
	vkey := vkeyOrFile
	if !strings.Contains(vkey, "+") || fileExists(vkey) {
		b, err := os.ReadFile(vkeyOrFile)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q is neither a key nor a readable file: %w", vkeyOrFile, err)
		}
		vkey = strings.TrimSpace(string(b))
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("malformed verifier key %q (want <name>+<id>+<key>)", vkey)
	}
	return v, nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
