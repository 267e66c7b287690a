package regime

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is an *Error
// wrapping a sentinel, and that every accepted regime has a canonical
// encoding that ParseCanonical accepts and maps to the same bytes. Seeds are
// the test vectors, the example and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(vectorDir, "*.toml"))
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(testTOML()))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsafe) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if r != nil {
				t.Fatal("Parse returned a Regime and an error")
			}
			return
		}
		again, err := Parse(b, nil)
		if err != nil || !bytes.Equal(again.Canonical(), r.Canonical()) {
			t.Fatalf("second Parse differs: %v", err)
		}
		rc, err := ParseCanonical(r.Canonical())
		if err != nil {
			t.Fatalf("ParseCanonical(Canonical()) = %v\n%s", err, r.Canonical())
		}
		if !bytes.Equal(rc.Canonical(), r.Canonical()) || rc.Hash() != r.Hash() {
			t.Fatal("canonical encoding does not round-trip")
		}
	})
}

// FuzzParseCanonical checks that ParseCanonical never panics and accepts
// only bytes that are their own canonical encoding.
func FuzzParseCanonical(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	for _, path := range seeds {
		if filepath.Base(path) == "vectors.json" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseCanonical(b)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		if !bytes.Equal(r.Canonical(), b) {
			t.Fatal("accepted bytes that are not canonical")
		}
	})
}

// FuzzParseSignatures checks that ParseSignatures never panics, that its
// errors wrap ErrBadSignature, and that Bytes gives a file that parses to
// the same signatures.
func FuzzParseSignatures(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(vectorDir, "*.sigs"))
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignatures(b)
		if err != nil {
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error does not wrap ErrBadSignature: %v", err)
			}
			return
		}
		s2, err := ParseSignatures(s.Bytes())
		if err != nil || !bytes.Equal(s2.Bytes(), s.Bytes()) {
			t.Fatalf("Bytes does not round-trip: %v", err)
		}
	})
}
