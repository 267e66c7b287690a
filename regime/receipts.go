package regime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tillit/tillit/cosign"
)

// ReceiptPolicy returns the witness policy of party log's log as a
// c2sp.org/tlog-policy (spec section "Witness policy"), ready for
// [cosign.Policy.Satisfied] or [cosign.Policy.SatisfiedAt]: a checkpoint
// note of that log is final when it is signed by the log's key and cosigned
// by [Regime.Quorum] of [Regime.Witnesses], each with its cosign key. The
// policy is, with P the log's party, W1 … Wn its witnesses in name order and
// q "all" or the regime's quorum k:
//
//	log <P's log_key>
//	witness <id>/<W1> <W1's cosign_key>
//	…
//	group P-witnesses q <id>/<W1> … <id>/<Wn>
//	quorum P-witnesses
//
// Witnesses are named by their key names, so [cosign.Details] lists them as
// "<id>/<party>". Cosignatures by other keys, such as P's own cosign key,
// are ignored; a cosignature by a witness's key that does not verify
// rejects the note. It returns an error if log is not a party.
func (r *Regime) ReceiptPolicy(log string) (*cosign.Policy, error) {
	text, err := r.ReceiptPolicyText(log)
	if err != nil {
		return nil, err
	}
	p, err := cosign.ParsePolicy([]byte(text))
	if err != nil {
		// Unreachable: the regime's keys were checked when it was parsed.
		return nil, fmt.Errorf("regime: couldn't build the receipt policy of %s: %w", log, err)
	}
	return p, nil
}

// ReceiptPolicyText returns the text of [Regime.ReceiptPolicy], in the
// format of c2sp.org/tlog-policy, for tools that take a policy file.
func (r *Regime) ReceiptPolicyText(log string) (string, error) {
	p := r.Party(log)
	if p == nil {
		return "", fmt.Errorf("regime: %q is not a party of %s", truncate(log), r.ID)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "log %s\n", p.LogKey)
	ws := slices.Clone(r.Witnesses(log)) // sorted by name
	names := make([]string, len(ws))
	for i, w := range ws {
		c := r.Party(w).Cosigner()
		names[i] = c.Name()
		fmt.Fprintf(&b, "witness %s %s\n", c.Name(), c)
	}
	q := "all"
	if r.WitnessPolicy.Quorum != 0 {
		q = strconv.Itoa(r.WitnessPolicy.Quorum)
	}
	group := log + "-witnesses"
	fmt.Fprintf(&b, "group %s %s %s\nquorum %s\n", group, q, strings.Join(names, " "), group)
	return b.String(), nil
}
