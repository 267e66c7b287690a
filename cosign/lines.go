package cosign

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// linePrefix starts a signed-note signature line: em dash and space
// (c2sp.org/signed-note, "Format").
const linePrefix = "\u2014 "

// MaxResponseLines bounds the number of signature lines [ParseLines] reads,
// as golang.org/x/mod/sumdb/note bounds the signatures of a note.
const MaxResponseLines = 100

// ParseLine parses one signed-note signature line, "— <name> <base64>",
// without its newline (c2sp.org/signed-note, "Signatures"). Any signature
// type is accepted, as lines from unknown keys must be ignored, not
// rejected; use [Timestamp] or [VerifyCosignature] to check a cosignature.
// The base64 must be canonical and decode to at least 5 bytes, so that
// FormatLine gives back the line.
func ParseLine(line string) (note.Signature, error) {
	rest, ok := strings.CutPrefix(line, linePrefix)
	if !ok {
		return note.Signature{}, fmt.Errorf("%w: signature line must start with an em dash and a space", ErrMalformedCosignature)
	}
	name, b64, ok := strings.Cut(rest, " ")
	if !ok || !validName(name) {
		return note.Signature{}, fmt.Errorf("%w: signature line has no valid key name", ErrMalformedCosignature)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodeToString(b) != b64 {
		return note.Signature{}, fmt.Errorf("%w: signature by %s is not canonical base64", ErrMalformedCosignature, name)
	}
	if len(b) < 5 {
		return note.Signature{}, fmt.Errorf("%w: signature by %s has %d bytes, too short for a key ID and a signature", ErrMalformedCosignature, name, len(b))
	}
	return note.Signature{Name: name, Hash: binary.BigEndian.Uint32(b), Base64: b64}, nil
}

// FormatLine returns the signature line of sig, without a newline.
func FormatLine(sig note.Signature) string {
	return linePrefix + sig.Name + " " + sig.Base64
}

// ParseLines parses the body of a c2sp.org/tlog-witness add-checkpoint
// response: one or more signature lines, each ending in a newline. It reads at
// most MaxResponseLines lines and tlog.MaxCheckpointSize bytes.
func ParseLines(body []byte) ([]note.Signature, error) {
	if len(body) > tlog.MaxCheckpointSize {
		return nil, fmt.Errorf("%w: %d bytes of signature lines exceed %d", ErrMalformedCosignature, len(body), tlog.MaxCheckpointSize)
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, fmt.Errorf("%w: signature lines must be non-empty and end with a newline", ErrMalformedCosignature)
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	if len(lines) > MaxResponseLines {
		return nil, fmt.Errorf("%w: %d signature lines exceed %d", ErrMalformedCosignature, len(lines), MaxResponseLines)
	}
	sigs := make([]note.Signature, 0, len(lines))
	for i, l := range lines {
		s, err := ParseLine(string(l))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}

// FormatLines returns the signature lines of sigs, each ending in a newline:
// the body of a c2sp.org/tlog-witness add-checkpoint response.
func FormatLines(sigs ...note.Signature) []byte {
	var b []byte
	for _, s := range sigs {
		b = append(b, FormatLine(s)...)
		b = append(b, '\n')
	}
	return b
}

// VerifyResponse checks a c2sp.org/tlog-witness add-checkpoint response body
// from the cosigner of v for the checkpoint note text: lines from other keys
// are ignored, every line from v's key must verify, at least one must, and
// its timestamp must be within tolerance of now ([CheckClock]). It returns
// the first of v's cosignatures and its timestamp.
func VerifyResponse(text string, body []byte, v *Verifier, now time.Time, tolerance time.Duration) (note.Signature, time.Time, error) {
	sigs, err := ParseLines(body)
	if err != nil {
		return note.Signature{}, time.Time{}, err
	}
	var found note.Signature
	var foundTime time.Time
	for _, s := range sigs {
		if s.Name != v.name || s.Hash != v.id {
			continue
		}
		ts, err := VerifyCosignature(text, s, v)
		if err != nil {
			return note.Signature{}, time.Time{}, err
		}
		if err := CheckClock(ts, now, tolerance); err != nil {
			return note.Signature{}, time.Time{}, fmt.Errorf("cosignature by %s: %w", v.name, err)
		}
		if foundTime.IsZero() {
			found, foundTime = s, ts
		}
	}
	if foundTime.IsZero() {
		return note.Signature{}, time.Time{}, fmt.Errorf("%w: no cosignature by %s/%08x in the response", ErrInvalidCosignature, v.name, v.id)
	}
	return found, foundTime, nil
}
