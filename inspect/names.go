package inspect

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits (spec §Names).
const (
	MaxPartyLen  = 64   // bytes in a party name (statement spec §Names)
	MaxNameLen   = 128  // bytes in a region, site, item id or category (escrow spec §Names)
	MaxReasonLen = 1024 // bytes in a reason
	MinYear      = 1    // earliest quota year
	MaxYear      = 9999 // latest quota year (statement times have four-digit years)
)

// checkParty implements statement spec §Names for party names: 1 to 64
// bytes of [A-Za-z0-9._-], not "." or "..".
func checkParty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxPartyLen {
		return fmt.Sprintf("%d bytes, more than %d", len(s), MaxPartyLen)
	}
	if s == "." || s == ".." {
		return fmt.Sprintf("%q is reserved", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("byte %d (%q) is not one of A-Z a-z 0-9 . _ -", i, c)
		}
	}
	return ""
}

// checkName implements escrow spec §Names for region and site names, item
// ids and categories: 1 to 128 bytes of printable UTF-8 (unicode.IsPrint,
// which allows U+0020 but no other space), no leading or trailing space.
func checkName(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxNameLen {
		return fmt.Sprintf("%d bytes, more than %d", len(s), MaxNameLen)
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return "leading or trailing space"
	}
	return checkPrintable(s)
}

// checkReason allows 0 to 1024 bytes of printable UTF-8.
func checkReason(s string) string {
	if len(s) > MaxReasonLen {
		return fmt.Sprintf("%d bytes, more than %d", len(s), MaxReasonLen)
	}
	return checkPrintable(s)
}

func checkPrintable(s string) string {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n != 3 {
				return fmt.Sprintf("invalid UTF-8 at byte %d", i)
			}
		}
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("non-printable character %U at byte %d", r, i)
		}
	}
	return ""
}

func partyField(field, s string) error {
	if msg := checkParty(s); msg != "" {
		return invalid(field, "party name %q: %s", truncate(s), msg)
	}
	return nil
}

func nameField(field, s string) error {
	if msg := checkName(s); msg != "" {
		return invalid(field, "%q: %s", truncate(s), msg)
	}
	return nil
}

func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
