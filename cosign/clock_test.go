package cosign_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"golang.org/x/mod/sumdb/note"
)

func TestCheckClock(t *testing.T) {
	now := time.Unix(testTime, 0)
	tol := 5 * time.Minute
	for _, tt := range []struct {
		name      string
		ts        time.Time
		tolerance time.Duration
		fresh     bool // CheckClock accepts
		notFuture bool // CheckNotFuture accepts
	}{
		{"now", now, tol, true, true},
		{"at +tolerance", now.Add(tol), tol, true, true},
		{"at -tolerance", now.Add(-tol), tol, true, true},
		{"just past +tolerance", now.Add(tol + time.Second), tol, false, false},
		{"just past -tolerance", now.Add(-tol - time.Second), tol, false, true},
		{"a year old", now.AddDate(-1, 0, 0), tol, false, true},
		{"year 9999", time.Unix(cosign.MaxTimestamp, 0), tol, false, false},
		{"the epoch", time.Unix(1, 0), tol, false, true},
		{"zero tolerance, now", now, 0, true, true},
		{"zero tolerance, a second off", now.Add(time.Second), 0, false, false},
		{"negative tolerance counts as zero", now.Add(-time.Second), -time.Hour, false, true},
		{"huge tolerance", now.AddDate(200, 0, 0), 1<<63 - 1, true, true},
		{"beyond any tolerance", time.Unix(cosign.MaxTimestamp, 0), 1<<63 - 1, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := cosign.CheckClock(tt.ts, now, tt.tolerance)
			if (err == nil) != tt.fresh || err != nil && !errors.Is(err, cosign.ErrClockSkew) {
				t.Errorf("CheckClock = %v, want ok=%v", err, tt.fresh)
			}
			err = cosign.CheckNotFuture(tt.ts, now, tt.tolerance)
			if (err == nil) != tt.notFuture || err != nil && !errors.Is(err, cosign.ErrClockSkew) {
				t.Errorf("CheckNotFuture = %v, want ok=%v", err, tt.notFuture)
			}
		})
	}
}

// TestSatisfiedAt checks that cosignatures from the future don't count, and
// are reported.
func TestSatisfiedAt(t *testing.T) {
	w1 := witness(t, "w1.example")
	ahead, err := cosign.NewSigner("w2.example", testKey("witness w2.example"), fixedClock(testTime+3600))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cosign.AllOf(w1.Verifier(), ahead.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	msg := sign(t, checkpointText("a.example/log", 7, "at"), w1, ahead)
	now := time.Unix(testTime, 0)
	for _, tt := range []struct {
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{now, time.Minute, false},
		{now, time.Hour, true},
		{now.Add(time.Hour), 0, true},
		{now.Add(-time.Hour), time.Minute, false},
	} {
		ok, d, err := p.SatisfiedAt(msg, tt.now, tt.tolerance)
		if err != nil || ok != tt.ok {
			t.Errorf("SatisfiedAt(%v, %v) = %v, %v; want %v", tt.now, tt.tolerance, ok, err, tt.ok)
			continue
		}
		if !ok && (len(d.Future) == 0 || len(d.Cosigned)+len(d.Future) != 2 || len(d.Missing) != len(d.Future)) {
			t.Errorf("SatisfiedAt(%v, %v) details %+v", tt.now, tt.tolerance, d)
		}
	}
	if ok, d, err := p.Satisfied(msg); !ok || err != nil || len(d.Future) != 0 {
		t.Errorf("Satisfied = %v, %+v, %v", ok, d, err)
	}
}

// TestVerifyResponse checks receipts as a tillit party gets them: the body of
// a c2sp.org/tlog-witness add-checkpoint response.
func TestVerifyResponse(t *testing.T) {
	w := witness(t, "peer.example/witness")
	v := w.Verifier()
	other := witness(t, "other.example/witness")
	text := checkpointText("me.example/log", 100, "receipt")
	now := time.Unix(testTime, 0)
	sig, _, err := w.Cosign(text)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, _, _ := other.Cosign(text)
	skewed, err := cosign.NewSigner(w.Name(), testKey("witness peer.example/witness"), fixedClock(testTime-3600))
	if err != nil {
		t.Fatal(err)
	}
	skewedSig, _, _ := skewed.Cosign(text)
	wrongText, _, _ := w.Cosign(checkpointText("me.example/log", 101, "receipt"))
	// An ML-DSA-44-sized signature by the same name and another key ID:
	// ignored, as lines from unknown keys must be.
	mldsa := rawSig(w.Name(), 0x12345678, testTime, make([]byte, 2420))

	for _, tt := range []struct {
		name string
		body []byte
		err  error
	}{
		{"one line", cosign.FormatLines(sig), nil},
		{"with other keys' lines", cosign.FormatLines(otherSig, mldsa, sig), nil},
		{"twice", cosign.FormatLines(sig, sig), nil},
		{"only other keys", cosign.FormatLines(otherSig, mldsa), cosign.ErrInvalidCosignature},
		{"clock an hour behind", cosign.FormatLines(skewedSig), cosign.ErrClockSkew},
		{"good and skewed", cosign.FormatLines(sig, skewedSig), cosign.ErrClockSkew},
		{"for another checkpoint", cosign.FormatLines(wrongText), cosign.ErrInvalidCosignature},
		{"good then bad", cosign.FormatLines(sig, rawSig(w.Name(), w.KeyHash(), testTime, make([]byte, 64))), cosign.ErrInvalidCosignature},
		{"malformed", []byte("— " + w.Name() + " !!\n"), cosign.ErrMalformedCosignature},
		{"empty", nil, cosign.ErrMalformedCosignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ts, err := cosign.VerifyResponse(text, tt.body, v, now, cosign.DefaultClockTolerance)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("VerifyResponse error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != sig || !ts.Equal(now) {
				t.Fatalf("VerifyResponse = %+v, %v, %v", got, ts, err)
			}
			// The receipt makes the checkpoint final under AllOf(peer).
			p, _ := cosign.AllOf(v)
			msg := []byte(text + "\n" + string(cosign.FormatLines(got)))
			if ok, _, err := p.Satisfied(msg); !ok || err != nil {
				t.Fatalf("Satisfied(%q) = %v, %v", msg, ok, err)
			}
		})
	}
}

func ExampleCheckClock() {
	now := time.Date(2026, 5, 9, 12, 0, 0, 0, time.UTC)
	fmt.Println(cosign.CheckClock(now.Add(-2*time.Minute), now, cosign.DefaultClockTolerance))
	err := cosign.CheckClock(now.Add(time.Hour), now, cosign.DefaultClockTolerance)
	fmt.Println(errors.Is(err, cosign.ErrClockSkew), strings.Contains(err.Error(), "1h0m0s ahead"))
	// Output:
	// <nil>
	// true true
}

var _ note.Verifier = (*cosign.Verifier)(nil)
