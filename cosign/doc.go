// Package cosign implements the two standards an auditor needs to decide
// whether a tillit checkpoint is final: timestamped Ed25519 cosignatures
// (c2sp.org/tlog-cosignature, "cosignature/v1", signed-note signature type
// 0x04) and witness policies (c2sp.org/tlog-policy).
//
// Each tillit party runs a log; the other parties mirror it and return
// cosignatures as receipts. A checkpoint is final when the cosignatures on it
// satisfy a [Policy]: by default [AllOf] the other parties.
//
// # Cosignatures
//
// A [Signer] is a note.Signer that signs a checkpoint with the time given by
// its clock; a [Verifier] is the matching note.Verifier. They produce and accept
// exactly the bytes of c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed
// message" (checked against vectors made with filippo.io/torchwood in
// testdata/torchwood-vectors.json):
//
//	message   = "cosignature/v1\n" || "time " || decimal(timestamp) || "\n" || checkpoint note text
//	key ID    = SHA-256(name || "\n" || 0x04 || 32-byte public key)[:4]
//	signature = key ID || uint64be(timestamp) || Ed25519 signature (4+8+64 bytes)
//
// The whole note text is signed, extension lines included.
//
// # Key encodings
//
// The verifier key is the signed-note vkey with signature type 0x04
// (c2sp.org/tlog-cosignature, "Format"; c2sp.org/signed-note, "Verifier keys"):
//
//	<name>+<key ID as 8 lowercase hex digits>+base64(0x04 || 32-byte Ed25519 public key)
//
// The private key is tillit's own encoding, shaped like the signed-note
// Ed25519 private keys of golang.org/x/mod/sumdb/note but with type 0x04, so
// that note.NewSigner refuses it and a cosigner key cannot be mistaken for a
// log key:
//
//	PRIVATE+KEY+<name>+<key ID as 8 lowercase hex digits>+base64(0x04 || 32-byte Ed25519 seed)
//
// where the key ID is that of the public key (the same as in the vkey).
//
// # Guarantees
//
//   - A Signer signs only a canonical checkpoint (one that
//     tlog.ParseCheckpoint accepts and re-encodes to the same bytes), and only
//     with a timestamp in [1, MaxTimestamp].
//   - A Verifier accepts only a 72-byte signature whose timestamp is in
//     [1, MaxTimestamp] and whose Ed25519 signature covers exactly the message
//     above over a canonical checkpoint. Timestamp 0 is refused: a v1
//     cosignature states what the cosigner saw "as of the specified time".
//   - Key and signature-line parsers are strict (canonical base64, lowercase
//     hex, a key ID that matches the key, the right type byte and length), so
//     that parse → encode gives back the input.
//   - Policy evaluation follows signed-note: signatures from keys not in the
//     policy are ignored, and a signature from a key in the policy that fails
//     to verify rejects the whole note ([ErrInvalidCosignature] or
//     tlog.ErrCheckpointSignature).
//   - Clock checks ([CheckClock], [CheckNotFuture], [Policy.SatisfiedAt],
//     [VerifyResponse]) let tillit refuse cosignatures from clocks too far off.
//
// # Limits
//
//   - Only Ed25519 cosignatures (0x04). ML-DSA-44 cosignatures (0x06) and
//     subtree cosignatures are not supported; policy files naming them are
//     rejected with a message that says so.
//   - Policy logs must be Ed25519 signed-note keys (0x01), the keys tillit logs
//     sign checkpoints with.
//   - Timestamps above MaxTimestamp (the end of year 9999) are refused as
//     being in the future, which c2sp.org/tlog-cosignature allows; they could
//     not be compared as time.Time values.
//   - Policies: at most MaxPolicySize bytes, MaxPolicyLines lines, MaxLogs
//     logs, MaxWitnesses witnesses, MaxGroups groups, and groups nested at most
//     MaxNesting deep. c2sp.org/tlog-policy asks for at least 32 of each.
//   - A signed note is at most tlog.MaxCheckpointSize bytes, and
//     golang.org/x/mod/sumdb/note reads at most 100 signatures from it.
package cosign
