// Package tlog holds the spec-level formats of a tillit log and the functions a
// third party needs to verify one offline, without trusting the party that runs it.
//
// Everything here is a standard format used unchanged:
//
//   - tile paths and entry bundles: c2sp.org/tlog-tiles (tile.go);
//   - checkpoints: c2sp.org/tlog-checkpoint carried in a c2sp.org/signed-note
//     (checkpoint.go);
//   - portable proofs: c2sp.org/tlog-proof@v1 (proof.go);
//   - Merkle hashing, inclusion and consistency proofs: RFC 6962, through
//     golang.org/x/mod/sumdb/tlog.
//
// [VerifyLog] fetches a whole log (over HTTP or from an exported directory),
// recomputes every tile and the root, and checks the checkpoint signature.
//
// The package never trusts its input: every parser bounds the size of what it
// reads and rejects non-canonical encodings (leading zeros, a size of -1,
// trailing data), so that two different byte strings never parse to the same value.
package tlog
