package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// MaxCheckpointSize bounds the size of a checkpoint note, signatures included.
// It leaves room for the 16 signatures signed-note verifiers must accept even
// if they are ML-DSA-44 cosignatures (about 3.3 kB each).
const MaxCheckpointSize = 64 << 10

// ErrBadCheckpoint is wrapped by every error returned for a malformed checkpoint.
var ErrBadCheckpoint = errors.New("malformed checkpoint")

// ErrCheckpointSignature is wrapped when a checkpoint's note does not carry a
// valid signature by the expected log key.
var ErrCheckpointSignature = errors.New("checkpoint not signed by the log key")

// Checkpoint is the body of a c2sp.org/tlog-checkpoint note: the log's origin,
// tree size and root hash, and any extension lines.
type Checkpoint struct {
	Origin     string
	Tree       tlog.Tree
	Extensions []string
}

// String returns the note text of c (c2sp.org/tlog-checkpoint, "Note text"),
// ending in a newline.
func (c Checkpoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Tree.N, base64.StdEncoding.EncodeToString(c.Tree.Hash[:]))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseCheckpoint parses the text of a checkpoint note (without signatures). It
// rejects an empty origin, a size with a sign or leading zeros, a root that is
// not exactly 32 bytes of canonical base64, and empty extension lines.
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrBadCheckpoint, fmt.Sprintf(format, args...))
	}
	if !utf8.ValidString(text) {
		return bad("not valid UTF-8")
	}
	for _, r := range text {
		if r != '\n' && r < 0x20 {
			return bad("control character %U (signed notes must not contain any)", r)
		}
	}
	if !strings.HasSuffix(text, "\n") {
		return bad("text must end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return bad("need origin, size and root hash lines, got %d lines", len(lines))
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return bad("empty origin line")
	}
	n, ok := parseDecimal(lines[1], 1<<63-1)
	if !ok {
		return bad("tree size %q is not a decimal without sign or leading zeros", lines[1])
	}
	c.Tree.N = n
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return bad("root hash %q is not 32 bytes of base64", lines[2])
	}
	copy(c.Tree.Hash[:], h)
	for i, e := range lines[3:] {
		if e == "" {
			return bad("extension line %d is empty", i+1)
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint note against the log's verifier
// and checks that its origin is origin. Signatures by other keys, such as
// cosignatures, are ignored here (signed-note, "Verifying").
func OpenCheckpoint(msg []byte, origin string, v note.Verifier) (Checkpoint, *note.Note, error) {
	if len(msg) > MaxCheckpointSize {
		return Checkpoint{}, nil, fmt.Errorf("%w: note of %d bytes exceeds %d", ErrBadCheckpoint, len(msg), MaxCheckpointSize)
	}
	if err := canonicalSignatures(msg); err != nil {
		return Checkpoint{}, nil, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return Checkpoint{}, nil, fmt.Errorf("%w %s: %v", ErrCheckpointSignature, v.Name(), err)
		}
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, want %q", ErrBadCheckpoint, c.Origin, origin)
	}
	return c, n, nil
}

// SignCheckpoint signs c with the log's signer and returns the note. It
// refuses a checkpoint that ParseCheckpoint would reject.
func SignCheckpoint(c Checkpoint, signers ...note.Signer) ([]byte, error) {
	text := c.String()
	parsed, err := ParseCheckpoint(text)
	if err != nil {
		return nil, err
	}
	if parsed.Origin != c.Origin || parsed.Tree != c.Tree || !slices.Equal(parsed.Extensions, c.Extensions) {
		return nil, fmt.Errorf("%w: a line break in the origin or an extension would change what is signed", ErrBadCheckpoint)
	}
	return note.Sign(&note.Note{Text: text}, signers...)
}

// NoteText returns the text part of a signed note: everything before the
// last empty line, with its final newline (c2sp.org/signed-note, "Format"),
// without checking signatures.
func NoteText(msg []byte) (string, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return "", fmt.Errorf("%w: missing blank line before signatures", ErrBadCheckpoint)
	}
	return string(msg[:i+1]), nil
}

// canonicalSignatures checks that every signature line of a signed note is
// "— <name> <base64>" with canonical (strict) base64, so that no two byte
// strings carry the same signatures: note.Open alone ignores the unused low
// bits of the last base64 character.
func canonicalSignatures(msg []byte) error {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return fmt.Errorf("%w: missing blank line before signatures", ErrBadCheckpoint)
	}
	sigs := strings.TrimSuffix(string(msg[i+2:]), "\n")
	for _, line := range strings.Split(sigs, "\n") {
		rest, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			return fmt.Errorf("%w: signature line %q does not start with an em dash and a space", ErrBadCheckpoint, line)
		}
		_, b64, ok := strings.Cut(rest, " ")
		if !ok {
			return fmt.Errorf("%w: malformed signature line %q", ErrBadCheckpoint, line)
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(b64); err != nil {
			return fmt.Errorf("%w: signature %q is not canonical base64", ErrBadCheckpoint, b64)
		}
	}
	return nil
}
