package statement

import (
	"errors"
	"strings"
	"testing"
)

func TestRefString(t *testing.T) {
	var h [32]byte
	for i := range h {
		h[i] = byte(i)
	}
	for _, tt := range []struct {
		ref  Ref
		want string
	}{
		{Ref{"nato-russia-2022/RU", 41, h}, "nato-russia-2022/RU/41#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
		{Ref{"x", 0, [32]byte{}}, "x/0#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{Ref{"a/5", 9223372036854775807, h}, "a/5/9223372036854775807#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
		{Ref{`ex"ample.com\log#1/2`, 7, h}, `ex"ample.com\log#1/2/7#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=`},
		{Ref{"a//", 1, h}, "a///1#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
		{Ref{"#", 1, h}, "#/1#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
	} {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.ref, got, tt.want)
		}
		got, err := ParseRef(tt.want)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tt.want, err)
		} else if got != tt.ref {
			t.Errorf("ParseRef(%q) = %+v, want %+v", tt.want, got, tt.ref)
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	const h = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for _, tt := range []struct{ in, want string }{
		{"", "no '#' before the hash"},
		{"a/b/1", "no '#' before the hash"},
		{"a/b/1#" + h[:43], "hash must be the standard base64 encoding of 32 bytes (44 characters, not 43)"},
		{"a/b/1#" + h[:42] + "Z=", "hash must be the standard base64 encoding of 32 bytes (non-canonical encoding)"},
		{"a/b/1#" + strings.Repeat("A", 44), "hash must be the standard base64 encoding of 32 bytes"},
		{"1#" + h, "no '/' before the index"},
		{"a/b/#" + h, "index must be a non-negative integer"},
		{"a/b/01#" + h, "index must be a non-negative integer"},
		{"a/b/-1#" + h, "index must be a non-negative integer"},
		{"a/b/+1#" + h, "index must be a non-negative integer"},
		{"a/b/1 #" + h, "index must be a non-negative integer"},
		{"a/b/9223372036854775808#" + h, "index must be at most 2^63-1"},
		{"/1#" + h, "origin is empty"},
		{"a b/1#" + h, "invalid character ' ' in origin"},
		{"a/b/1#" + h + " ", "hash must be the standard base64 encoding of 32 bytes (44 characters, not 45)"},
	} {
		_, err := ParseRef(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRef(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRef(%q) error is not ErrInvalid", tt.in)
		}
	}
	_, err := ParseRef("a/b/1#x")
	const want = `statement: reference "a/b/1#x": hash must be the standard base64 encoding of 32 bytes (44 characters, not 1) (want <origin>/<index>#<base64 leaf hash>)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseRef error\n got %v\nwant %s", err, want)
	}
}

func FuzzRef(f *testing.F) {
	f.Add("nato-russia-2022/RU/41#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	f.Add("a/5/0#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if got := r.String(); got != s {
			t.Errorf("ParseRef(%q).String() = %q", s, got)
		}
	})
}
