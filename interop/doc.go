// Package interop checks that a tillit log is a standard C2SP transparency log
// by having independent implementations read and cosign it: the
// filippo.io/torchwood tile client (c2sp.org/tlog-tiles, tlog-checkpoint,
// signed-note) verifies a served and an exported log entry by entry, and the
// torchwood litewitness (c2sp.org/tlog-witness) cosigns its checkpoints with
// c2sp.org/tlog-cosignature signatures.
//
// It is a separate module so that these test-only dependencies stay out of the
// main go.mod. It has no non-test code; run it with `go test ./...`.
package interop
