package cosign

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestSpecMessage checks the signed message against the example of
// c2sp.org/tlog-cosignature, "Ed25519 signed message".
func TestSpecMessage(t *testing.T) {
	text := "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	want := "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	m, err := message([]byte(text), 1679315147)
	if err != nil || string(m) != want {
		t.Fatalf("message = %q, %v; want %q", m, err, want)
	}

	// Extension lines are covered ("Extension lines ... MUST be included in
	// the cosigned message").
	ext := text + "extension one\n"
	m, err = message([]byte(ext), 1)
	if err != nil || string(m) != "cosignature/v1\ntime 1\n"+ext {
		t.Fatalf("message with extension = %q, %v", m, err)
	}
}

func TestMessageRefusesNonCheckpoints(t *testing.T) {
	for _, text := range []string{
		"",
		"just a note\n",
		"example.com/log\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",        // leading zero
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",           // no final newline
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nx\n",    // empty extension
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",         // non-canonical base64
		"example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",        // negative size
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\ne\x01x\n", // control character
	} {
		if m, err := message([]byte(text), 1); err == nil {
			t.Errorf("message(%q) = %q, want error", text, m)
		}
	}
}

func TestKeyIDSpec(t *testing.T) {
	// The vkey of the first torchwood vector, whose key ID torchwood
	// computed (c2sp.org/tlog-cosignature, "Format").
	v, err := NewVerifier("witness.example.com/w1+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p")
	if err != nil {
		t.Fatal(err)
	}
	if got := KeyID(v.name, v.pub); got != 0x1ab28454 {
		t.Fatalf("KeyID = %08x, want 1ab28454", got)
	}
	// Spelled out: SHA-256(name || "\n" || 0x04 || key)[:4].
	h := sha256.Sum256(append([]byte(v.name+"\n\x04"), v.pub...))
	if got := binary.BigEndian.Uint32(h[:]); got != 0x1ab28454 {
		t.Fatalf("SHA-256 prefix = %08x", got)
	}
}
