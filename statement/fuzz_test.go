package statement

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is an *Error
// wrapping a sentinel, and that every accepted entry round-trips through the
// canonical encoding and agrees with encoding/json. Seeds are the test
// vectors and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	v := readVectors(f)
	for _, tt := range v.Valid {
		if b := readTestdata(f, tt.File); len(b) <= 4096 {
			f.Add(b)
		}
	}
	for _, tt := range v.Invalid {
		if b := readTestdata(f, tt.File); len(b) <= 4096 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			checkError(t, err)
			if s != nil {
				t.Fatal("Parse returned a Statement and an error")
			}
			return
		}
		if !bytes.Equal(s.Raw(), b) {
			t.Fatal("Raw() differs from the input")
		}
		checkRoundTrip(t, s)
		checkOracle(t, b, s)
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *Error: %v", err, err)
	}
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalid) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
}

// checkOracle checks an accepted entry against encoding/json, an independent
// decoder: the entry must be valid JSON and decode to the same fields.
func checkOracle(t *testing.T, b []byte, s *Statement) {
	t.Helper()
	var m struct {
		V                                    json.Number
		Regime, From, Type, Precedence, Time string
		To                                   []string
		Refs                                 []struct {
			Log   string
			Index int64
			Hash  string
		}
		Body json.RawMessage
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("Parse accepted what encoding/json rejects: %v", err)
	}
	refs := make([]Ref, len(m.Refs))
	for i, r := range m.Refs {
		h, err := base64.StdEncoding.DecodeString(r.Hash)
		if err != nil || len(h) != 32 {
			t.Fatalf("refs[%d].hash: encoding/json read %q", i, r.Hash)
		}
		refs[i] = Ref{Log: r.Log, Index: r.Index, Hash: [32]byte(h)}
	}
	switch {
	case m.V != "1":
		t.Fatalf("v: encoding/json read %s", m.V)
	case m.Regime != s.Regime || m.From != s.From || m.Type != s.Type || !slices.Equal(m.To, s.To):
		t.Fatalf("names differ from encoding/json: %+v", m)
	case m.Precedence != s.Precedence.String():
		t.Fatalf("precedence: encoding/json read %q, Parse %v", m.Precedence, s.Precedence)
	case m.Time != s.Time.Format(timeLayout):
		t.Fatalf("time: encoding/json read %q, Parse %v", m.Time, s.Time)
	case !slices.Equal(refs, s.Refs):
		t.Fatalf("refs: encoding/json read %v, Parse %v", refs, s.Refs)
	case !bytes.Equal(m.Body, s.Body):
		t.Fatalf("body: encoding/json read %s, Parse %s", m.Body, s.Body)
	}
}
