// Package jsonpos locates problems in JSON input for error messages: where
// UTF-8 is invalid, where a document departs from its canonical encoding,
// and which byte of the original a position in its compacted form is.
package jsonpos

import "unicode/utf8"

// InvalidUTF8 returns the offset of the first invalid UTF-8 sequence in
// data, or len(data) if there is none.
func InvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// FirstDiff returns the offset of the first byte where a and b differ, or
// the length of the shorter one.
func FirstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// Window returns up to 16 bytes of b on each side of offset i, for showing
// where two encodings differ.
func Window(b []byte, i int) string {
	lo, hi := max(i-16, 0), min(i+16, len(b))
	return string(b[lo:hi])
}

// Original maps offset i in the compacted form of the JSON document data
// (insignificant whitespace removed) back to the offset in data.
func Original(data []byte, i int) int {
	n, inString, escaped := 0, false, false
	for off, c := range data {
		if inString || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			if n == i {
				return off
			}
			n++
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	return len(data)
}
