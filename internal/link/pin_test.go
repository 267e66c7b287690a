package link

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
)

func TestPinRoundTrip(t *testing.T) {
	id := newIdentity(t)
	pin := id.Pin()
	s := pin.String()
	if !strings.HasPrefix(s, "ed25519:") || len(s) != len("ed25519:")+44 {
		t.Fatalf("pin %q is not ed25519:<44 base64 characters>", s)
	}
	got, err := ParsePin(s)
	if err != nil {
		t.Fatal(err)
	}
	if got != pin || got != PinOf(id.PublicKey()) || !got.PublicKey().Equal(id.PublicKey()) {
		t.Errorf("ParsePin(%q) = %v, want %v", s, got, pin)
	}

	b, err := json.Marshal(map[string]Pin{"pin": pin})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]Pin
	if err := json.Unmarshal(b, &m); err != nil || m["pin"] != pin {
		t.Errorf("JSON round trip of %s gave %v, %v", b, m, err)
	}
	if _, err := json.Marshal(Pin{}); err == nil {
		t.Error("the zero pin was encoded as JSON")
	}
}

func TestParsePinMalformed(t *testing.T) {
	good := newIdentity(t).Pin().String()
	b64 := strings.TrimPrefix(good, "ed25519:")
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"no prefix", b64},
		{"wrong prefix", "ecdsa:" + b64},
		{"upper-case prefix", "ED25519:" + b64},
		{"unpadded", "ed25519:" + strings.TrimRight(b64, "=")},
		{"URL alphabet", "ed25519:" + strings.NewReplacer("+", "-", "/", "_").Replace(strings.Repeat("+/", 21)+"A=")},
		{"short key", "ed25519:AAEC"},
		{"long key", "ed25519:" + b64[:43] + "AAAA"},
		{"space", "ed25519: " + b64},
		{"trailing newline", good + "\n"},
		{"non-canonical last character", "ed25519:" + b64[:42] + "B="},
		{"zero key", PinOf(make(ed25519.PublicKey, 32)).String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := ParsePin(tt.in); err == nil {
				t.Errorf("ParsePin(%q) = %v, want an error", tt.in, p)
			}
		})
	}
}

func TestPinOfWrongLength(t *testing.T) {
	if p := PinOf(make(ed25519.PublicKey, 31)); !p.IsZero() {
		t.Errorf("PinOf(31 bytes) = %v, want the zero pin", p)
	}
}

func FuzzParsePin(f *testing.F) {
	f.Add("ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	f.Add("ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("ed25519:")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePin(s)
		if err != nil {
			return
		}
		if p.IsZero() {
			t.Fatalf("ParsePin(%q) returned the zero pin", s)
		}
		if p.String() != s {
			t.Fatalf("ParsePin(%q).String() = %q; parsing is not canonical", s, p.String())
		}
	})
}
