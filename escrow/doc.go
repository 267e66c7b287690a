// Package escrow implements the cryptographic escrow of treaty declarations
// specified in docs/spec/escrow.md, after Philippe, Glaser and Felten, "A
// Cryptographic Escrow for Treaty Declarations and Step-by-Step
// Verification" (Science & Global Security, 2019), and the two-party
// commit-reveal beacon that chooses what is inspected.
//
// A party commits to a Declaration (regions → sites → items) with Commit and
// publishes the resulting Commitment; it keeps the Secret. Later it reveals
// the declaration step by step: the region index (names, leaf ranges and
// counts per category), a region's site list, a whole region or site with
// every item, or a single item. Anyone holding the Commitment checks each
// reveal with VerifyIndex, VerifySites, VerifyRegionOpening,
// VerifySiteOpening or VerifyItemOpening.
//
// Guarantees, under the collision resistance of SHA-256 and the secrecy of
// 256-bit salts drawn from crypto/rand:
//
//   - Binding: after publishing a commitment, a party cannot open any item,
//     site, region or index entry in two different ways. A site or region
//     opening that omits, adds, moves or alters an item, or moves a site
//     boundary, fails verification.
//   - Hiding: a commitment reveals only the party, regime, version and the
//     padded size class. Each reveal discloses what it opens and nothing
//     about unopened items or their salts. Spec §Security considerations
//     lists exactly what each step discloses (the number of regions with the
//     index, the number of sites of a region with any of its site proofs,
//     leaf positions).
//   - Beacon: neither party alone can bias the seed, provided neither reveals
//     before both commits are logged; a party that withholds its reveal, or
//     reveals something else, is named in the Outcome. The party revealing
//     second learns the seed first and can withhold; the regime's response
//     to that fault must not reward it.
//
// Limits: the escrow proves what was declared, not what exists; a party can
// always leave an item undeclared. A party can commit to an inconsistent
// index (say, overlapping ranges); it then cannot produce a valid reveal of
// the affected parts, which the regime treats as non-compliance. Openings of
// single regions or sites are checked against their own index entries; a
// verifier relies on the relation between regions only after VerifyIndex.
//
// All JSON values have one canonical encoding (spec §JSON encoding), the one
// encoding/json's Marshal produces; the Parse functions reject any other.
package escrow
