package cosign_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/tillit/tillit/cosign"
	"golang.org/x/mod/sumdb/note"
)

// A party mirrors another's log and returns a cosignature as a receipt; the
// log's owner checks it and then whether its checkpoint is final.
func Example() {
	// The mirroring party's cosigner, with a fixed key and clock.
	seed := sha256.Sum256([]byte("example"))
	now := time.Date(2026, 5, 9, 12, 0, 0, 0, time.UTC)
	peer, err := cosign.NewSigner("party-b.example/witness", ed25519.NewKeyFromSeed(seed[:]), func() time.Time { return now })
	if err != nil {
		panic(err)
	}
	fmt.Println(peer.Verifier())

	// It cosigns the checkpoint and sends back a tlog-witness response body.
	checkpoint := "party-a.example/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	sig, _, err := peer.Cosign(checkpoint)
	if err != nil {
		panic(err)
	}
	body := cosign.FormatLines(sig)

	// The log's owner checks the receipt, refusing clocks off by more than
	// five minutes, and attaches it to its checkpoint.
	v, err := cosign.NewVerifier(peer.Verifier().String())
	if err != nil {
		panic(err)
	}
	receipt, ts, err := cosign.VerifyResponse(checkpoint, body, v, now.Add(30*time.Second), cosign.DefaultClockTolerance)
	if err != nil {
		panic(err)
	}
	fmt.Println(ts)
	signed := []byte(checkpoint + "\n" + string(cosign.FormatLines(receipt)))

	// Under "every other party", the checkpoint is final.
	policy, err := cosign.AllOf(v)
	if err != nil {
		panic(err)
	}
	ok, details, err := policy.Satisfied(signed)
	fmt.Println(ok, details.Cosigned[0].Witness, err)
	// Output:
	// party-b.example/witness+c2235696+BEQpkwZQBKoeTEj03QFYGUwCNJvMZkzZbkAOommRio1R
	// 2026-05-09 12:00:00 +0000 UTC
	// true party-b.example/witness <nil>
}

func ExampleParsePolicy() {
	v := func(name string) string {
		seed := sha256.Sum256([]byte(name))
		w, _ := cosign.NewVerifierFromPublicKey(name, ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
		return w.String()
	}
	text := fmt.Sprintf(`# Two of three X witnesses, and one of two Y witnesses.
witness X1 %s
witness X2 %s
witness X3 %s
group X-witnesses 2 X1 X2 X3
witness Y1 %s
witness Y2 %s
group Y-witnesses any Y1 Y2
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`, v("x1.example"), v("x2.example"), v("x3.example"), v("y1.example"), v("y2.example"))
	p, err := cosign.ParsePolicy([]byte(text))
	if err != nil {
		panic(err)
	}
	fmt.Println(len(p.Witnesses()), "witnesses")

	_, err = cosign.ParsePolicy([]byte("witness X1 " + v("x1.example") + "\ngroup G 2 X1\nquorum G\n"))
	fmt.Println(err)
	// Output:
	// 5 witnesses
	// malformed policy: line 2: group "G": threshold 2 not in [1, 1]
}

var _ note.Signer = (*cosign.Signer)(nil)
