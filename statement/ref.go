package statement

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A Ref refers to an earlier statement: entry Index of the log with origin
// Log, whose RFC 6962 leaf hash is Hash (spec section "References").
type Ref struct {
	Log   string
	Index int64
	Hash  [32]byte
}

// String returns the text form of r (spec section "Reference text form"):
//
//	<origin>/<index>#<base64 leaf hash>
//
// for example "nato-russia/RU/41#pPNq…JMU=". [ParseRef] reverses it.
func (r Ref) String() string {
	var b strings.Builder
	b.Grow(len(r.Log) + 1 + 20 + 1 + 44)
	b.WriteString(r.Log)
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(r.Index, 10))
	b.WriteByte('#')
	b.WriteString(base64.StdEncoding.EncodeToString(r.Hash[:]))
	return b.String()
}

// ParseRef parses the text form of a reference, as returned by [Ref.String].
// The form is unambiguous although origins may contain '/' and '#': the hash
// follows the last '#' (base64 has no '#'), and the index follows the last
// '/' before it (decimal has no '/').
func ParseRef(s string) (Ref, error) {
	fail := func(msg string) (Ref, error) {
		return Ref{}, invalidf("", "reference %q: %s (want <origin>/<index>#<base64 leaf hash>)", truncate(s), msg)
	}
	h := strings.LastIndexByte(s, '#')
	if h < 0 {
		return fail("no '#' before the hash")
	}
	hash, msg := decodeHash(s[h+1:])
	if msg != "" {
		return fail("hash " + msg)
	}
	i := strings.LastIndexByte(s[:h], '/')
	if i < 0 {
		return fail("no '/' before the index")
	}
	index, msg := parseIndex(s[i+1 : h])
	if msg != "" {
		return fail("index " + msg)
	}
	r := Ref{Log: s[:i], Index: index, Hash: hash}
	if msg := checkOrigin(r.Log); msg != "" {
		return fail(msg)
	}
	return r, nil
}

// decodeHash decodes the canonical standard base64 encoding of a 32-byte
// hash, or returns what is wrong with s.
func decodeHash(s string) (h [32]byte, msg string) {
	// base64 decoders skip newlines and may accept non-zero padding bits;
	// comparing with the re-encoding rejects every non-canonical form.
	const want = "must be the standard base64 encoding of 32 bytes"
	if len(s) != base64.StdEncoding.EncodedLen(len(h)) {
		return h, want + fmt.Sprintf(" (44 characters, not %d)", len(s))
	}
	var buf [33]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(s))
	if err != nil || n != len(h) {
		return h, want
	}
	copy(h[:], buf[:n])
	if base64.StdEncoding.EncodeToString(h[:]) != s {
		return h, want + " (non-canonical encoding)"
	}
	return h, ""
}

// parseIndex parses a non-negative decimal integer without sign or leading
// zeros that fits in an int64.
func parseIndex(s string) (int64, string) {
	const msg = "must be a non-negative integer"
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return 0, msg
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, msg
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "must be at most 2^63-1"
	}
	return n, ""
}

// check returns what is wrong with r, with the path of the field.
func (r Ref) check() (field, msg string) {
	if msg := checkOrigin(r.Log); msg != "" {
		return "log", msg
	}
	if r.Index < 0 {
		return "index", "must be a non-negative integer"
	}
	return "", ""
}
