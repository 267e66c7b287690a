package regime

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// receiptTime is the clock of the test cosigners.
var receiptTime = time.Date(2022, 1, 12, 9, 30, 0, 0, time.UTC)

// cosignedCheckpoint returns a checkpoint of party log's log in regime r,
// signed with the log's test key and cosigned by the named parties' test
// cosign keys.
func cosignedCheckpoint(t *testing.T, r *Regime, log string, cosigners ...string) []byte {
	t.Helper()
	signers := []note.Signer{testSigner(t, r.ID, log, 0)}
	for _, c := range cosigners {
		signers = append(signers, testCosigner(r.ID, c, 0, func() time.Time { return receiptTime }))
	}
	cp := tlog.Checkpoint{Origin: r.Origin(log), Tree: sumtlog.Tree{N: 7, Hash: sha256.Sum256([]byte("tree"))}}
	msg, err := tlog.SignCheckpoint(cp, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestReceiptPolicy(t *testing.T) {
	all := mustParse(t, testTOML())
	oneOf := mustParse(t, testTOML()+"\n[witness_policy]\nquorum = 1\n")
	twoOfBO := mustParse(t, testTOML()+"\n[witness_policy]\nwitnesses = [\"O\", \"B\"]\nquorum = 1\n")
	tests := []struct {
		name      string
		r         *Regime
		log       string
		cosigners []string
		final     bool
		missing   string // Details.Missing, joined by ","
	}{
		{"all: no receipts", all, "A", nil, false, "test-regime/B,test-regime/O"},
		{"all: one of two", all, "A", []string{"B"}, false, "test-regime/O"},
		{"all: both", all, "A", []string{"O", "B"}, true, ""},
		{"all: the observer's log", all, "O", []string{"A", "B"}, true, ""},
		{"all: own cosignature does not count", all, "A", []string{"A", "B"}, false, "test-regime/O"},
		{"any: one", oneOf, "B", []string{"O"}, true, "test-regime/A"},
		{"any: none", oneOf, "B", []string{"B"}, false, "test-regime/A,test-regime/O"},
		{"witnesses B, O: A's log", twoOfBO, "A", []string{"O"}, true, "test-regime/B"},
		{"witnesses B, O: B's log has only O", twoOfBO, "B", []string{"A"}, false, "test-regime/O"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.r.ReceiptPolicy(tt.log)
			if err != nil {
				t.Fatal(err)
			}
			ok, d, err := p.Satisfied(cosignedCheckpoint(t, tt.r, tt.log, tt.cosigners...))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.final || strings.Join(d.Missing, ",") != tt.missing {
				t.Errorf("Satisfied = %v, missing %q; want %v, %q\npolicy:\n%s", ok, d.Missing, tt.final, tt.missing, p)
			}
			// The policy agrees with Final on the parties that cosigned.
			var counted []string
			for _, c := range d.Cosigned {
				counted = append(counted, strings.TrimPrefix(c.Witness, tt.r.ID+"/"))
				if !c.Time.Equal(receiptTime) {
					t.Errorf("cosignature time %v, want %v", c.Time, receiptTime)
				}
			}
			if got := tt.r.Final(tt.log, tt.cosigners); got != ok {
				t.Errorf("Final(%s, %v) = %v, policy says %v", tt.log, tt.cosigners, got, ok)
			}
			if got := tt.r.Final(tt.log, counted); got != ok {
				t.Errorf("Final(%s, %v) = %v, policy says %v", tt.log, counted, got, ok)
			}
		})
	}
}

func TestReceiptPolicyText(t *testing.T) {
	r := mustParse(t, testTOML()+"\n[witness_policy]\nquorum = 1\n")
	got, err := r.ReceiptPolicyText("B")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("log %s\nwitness test-regime/A %s\nwitness test-regime/O %s\ngroup B-witnesses 1 test-regime/A test-regime/O\nquorum B-witnesses\n",
		testVKey(testID, "B", 0), testCosignVKey(testID, "A", 0), testCosignVKey(testID, "O", 0))
	if got != want {
		t.Errorf("policy text:\n%s\nwant:\n%s", got, want)
	}
	p, err := r.ReceiptPolicy("B")
	if err != nil {
		t.Fatal(err)
	}
	if ws := p.Witnesses(); len(ws) != 2 || ws[0].Verifier.String() != r.Party("A").Cosigner().String() {
		t.Errorf("witnesses = %+v", ws)
	}
	if logs := p.Logs(); len(logs) != 1 || logs[0].VKey != r.Party("B").LogKey {
		t.Errorf("logs = %+v", logs)
	}
	if _, err := r.ReceiptPolicy("X"); err == nil || !strings.Contains(err.Error(), `"X" is not a party of test-regime`) {
		t.Errorf("ReceiptPolicy(X) = %v", err)
	}
}

// TestReceiptPolicyRejects checks what makes a cosigned checkpoint unusable
// as evidence, rather than just not final.
func TestReceiptPolicyRejects(t *testing.T) {
	r := mustParse(t, testTOML())
	p, err := r.ReceiptPolicy("A")
	if err != nil {
		t.Fatal(err)
	}
	good := cosignedCheckpoint(t, r, "A", "B", "O")
	if ok, _, err := p.Satisfied(good); !ok || err != nil {
		t.Fatalf("good checkpoint: %v, %v", ok, err)
	}

	// A's log key and B's cosign key share a name; their key IDs differ,
	// so the log signature is not mistaken for a cosignature or the reverse.
	if r.Party("A").Verifier().KeyHash() == r.Party("A").Cosigner().KeyHash() {
		t.Fatal("log and cosign key IDs collide")
	}

	// A cosignature by a witness that does not verify rejects the note.
	lines := strings.Split(string(good), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "— test-regime/B ") })
	bad := slices.Clone(lines)
	bad[i] = bad[i][:len(bad[i])-10] + flipBase64(bad[i][len(bad[i])-10:], 0)
	if _, _, err := p.Satisfied([]byte(strings.Join(bad, "\n"))); !errors.Is(err, cosign.ErrInvalidCosignature) {
		t.Errorf("forged cosignature: %v, want ErrInvalidCosignature", err)
	}

	// Cosignatures without the log's signature are not a checkpoint of A.
	unsigned := cosignedCheckpoint(t, r, "A", "B", "O")
	j := bytes.Index(unsigned, []byte("— test-regime/A "))
	k := j + bytes.IndexByte(unsigned[j:], '\n') + 1
	unsigned = append(unsigned[:j:j], unsigned[k:]...)
	if _, _, err := p.Satisfied(unsigned); !errors.Is(err, tlog.ErrCheckpointSignature) {
		t.Errorf("checkpoint without the log's signature: %v, want ErrCheckpointSignature", err)
	}

	// B's log, cosigned by A and O, does not satisfy A's policy.
	if _, _, err := p.Satisfied(cosignedCheckpoint(t, r, "B", "A", "O")); !errors.Is(err, tlog.ErrCheckpointSignature) {
		t.Errorf("another log's checkpoint: %v, want ErrCheckpointSignature", err)
	}

	// A receipt made with the witness's log key (a signed-note signature,
	// type 0x01) is not a cosignature and does not count.
	cp := tlog.Checkpoint{Origin: r.Origin("A"), Tree: sumtlog.Tree{N: 7, Hash: sha256.Sum256([]byte("tree"))}}
	withLogKeys, err := tlog.SignCheckpoint(cp, testSigner(t, testID, "A", 0), testSigner(t, testID, "B", 0), testSigner(t, testID, "O", 0))
	if err != nil {
		t.Fatal(err)
	}
	if ok, d, err := p.Satisfied(withLogKeys); ok || err != nil || len(d.Missing) != 2 {
		t.Errorf("receipts signed with log keys: %v, %+v, %v", ok, d, err)
	}
}
