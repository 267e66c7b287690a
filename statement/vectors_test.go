package statement

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// vectors is testdata/vectors.json, the test vectors of docs/spec/statement.md.
type vectors struct {
	Comment string `json:"comment"`
	Valid   []struct {
		File          string `json:"file"`
		LeafHash      string `json:"leaf_hash"`
		Canonical     bool   `json:"canonical"`
		CanonicalForm string `json:"canonical_form"`
		Note          string `json:"note"`
	} `json:"valid"`
	Invalid []struct {
		File    string `json:"file"`
		Error   string `json:"error"`
		Message string `json:"message"`
		Note    string `json:"note"`
	} `json:"invalid"`
}

func readVectors(t testing.TB) *vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var v vectors
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidVectors(t *testing.T) {
	v := readVectors(t)
	if len(v.Valid) == 0 {
		t.Fatal("no valid vectors")
	}
	for _, tt := range v.Valid {
		t.Run(tt.File, func(t *testing.T) {
			b := readTestdata(t, tt.File)
			s, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(s.Raw(), b) {
				t.Errorf("Raw() differs from the input")
			}
			// The expected hash was computed independently of this package;
			// check both it and the definition.
			want := sha256.Sum256(append([]byte{0}, b...))
			if hex.EncodeToString(want[:]) != tt.LeafHash {
				t.Errorf("vectors.json leaf_hash = %s, SHA-256(0x00||file) = %x", tt.LeafHash, want)
			}
			if got := s.LeafHash(); got != want {
				t.Errorf("LeafHash() = %x, want %x", got, want)
			}
			if got := s.IsCanonical(); got != tt.Canonical {
				t.Errorf("IsCanonical() = %v, want %v", got, tt.Canonical)
			}
			enc, err := Encode(s)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			want2 := b
			if tt.CanonicalForm != "" {
				want2 = readTestdata(t, tt.CanonicalForm)
			}
			if tt.Canonical || tt.CanonicalForm != "" {
				if !bytes.Equal(enc, want2) {
					t.Errorf("Encode =\n%s\nwant\n%s", enc, want2)
				}
			}
			checkRoundTrip(t, s)
		})
	}
}

func TestInvalidVectors(t *testing.T) {
	v := readVectors(t)
	if len(v.Invalid) == 0 {
		t.Fatal("no invalid vectors")
	}
	kinds := map[string]error{"too_large": ErrTooLarge, "syntax": ErrSyntax, "invalid": ErrInvalid}
	for _, tt := range v.Invalid {
		t.Run(tt.File, func(t *testing.T) {
			b := readTestdata(t, tt.File)
			s, err := Parse(b)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", s)
			}
			if s != nil {
				t.Errorf("Parse returned a Statement and an error")
			}
			if err.Error() != tt.Message {
				t.Errorf("error\n got %s\nwant %s", err, tt.Message)
			}
			kind, ok := kinds[tt.Error]
			if !ok {
				t.Fatalf("unknown error class %q", tt.Error)
			}
			if !errors.Is(err, kind) {
				t.Errorf("error %v is not %v", err, kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

// TestVectorFiles checks that every file in testdata/valid and
// testdata/invalid is listed in vectors.json.
func TestVectorFiles(t *testing.T) {
	v := readVectors(t)
	listed := map[string]bool{}
	for _, tt := range v.Valid {
		listed[tt.File] = true
	}
	for _, tt := range v.Invalid {
		listed[tt.File] = true
	}
	for _, dir := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := dir + "/" + filepath.Base(f)
			if !listed[name] {
				t.Errorf("%s is not in vectors.json", name)
			}
			delete(listed, name)
		}
	}
	for name := range listed {
		t.Errorf("%s is in vectors.json but missing", name)
	}
}
