package statement

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxNameLen is the maximum length of a name, in bytes.
const MaxNameLen = 64

// MaxOriginLen is the maximum length of a log origin, in bytes.
const MaxOriginLen = 255

// ValidName reports whether s is a valid regime, party or statement type name
// (spec section "Names"): 1 to 64 bytes from A-Z a-z 0-9 . _ -, and neither
// "." nor "..".
func ValidName(s string) bool { return checkName(s) == "" }

// checkName returns what is wrong with name s, or "" if nothing is.
func checkName(s string) string {
	switch {
	case s == "":
		return "name is empty"
	case len(s) > MaxNameLen:
		return fmt.Sprintf("name is %d bytes, more than %d", len(s), MaxNameLen)
	case s == "." || s == "..":
		return fmt.Sprintf("name %q is reserved", s)
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return fmt.Sprintf("invalid character %s in name (allowed: A-Z a-z 0-9 . _ -)", quoteAt(s, i))
		}
	}
	return ""
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// quoteAt quotes the character that starts at s[i], or the byte if it is not
// valid UTF-8.
func quoteAt(s string, i int) string {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return quoteByte(s[i])
	}
	return fmt.Sprintf("%q", r)
}

// ValidOrigin reports whether s is a valid log origin (spec section
// "References"): 1 to 255 bytes of printable ASCII without spaces
// (0x21 to 0x7E). The log of party P in regime R has origin "R/P".
func ValidOrigin(s string) bool { return checkOrigin(s) == "" }

func checkOrigin(s string) string {
	switch {
	case s == "":
		return "origin is empty"
	case len(s) > MaxOriginLen:
		return fmt.Sprintf("origin is %d bytes, more than %d", len(s), MaxOriginLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			return fmt.Sprintf("invalid character %s in origin (allowed: printable ASCII except space)", quoteAt(s, i))
		}
	}
	return ""
}

// timeLayout is the only accepted form of a statement time (spec section
// "Time").
const timeLayout = "2006-01-02T15:04:05.000Z"

// parseTime parses a time of the exact form 2022-01-12T09:30:00.000Z, or
// returns what is wrong with it.
func parseTime(s string) (time.Time, string) {
	const form = "must have the form YYYY-MM-DDThh:mm:ss.sssZ, like 2022-01-12T09:30:00.000Z"
	if len(s) < 19 || !digitsAt(s, 0, 4) || s[4] != '-' || !digitsAt(s, 5, 2) || s[7] != '-' ||
		!digitsAt(s, 8, 2) || s[10] != 'T' || !digitsAt(s, 11, 2) || s[13] != ':' ||
		!digitsAt(s, 14, 2) || s[16] != ':' || !digitsAt(s, 17, 2) {
		return time.Time{}, form
	}
	rest := s[19:]
	frac := 0
	if rest != "" && rest[0] == '.' {
		for frac+1 < len(rest) && '0' <= rest[frac+1] && rest[frac+1] <= '9' {
			frac++
		}
		rest = rest[frac+1:]
	}
	switch {
	case rest != "Z" && (rest == "" || rest[0] == '+' || rest[0] == '-' || rest[0] == 'z'):
		return time.Time{}, "must be UTC, with the suffix Z"
	case rest != "Z":
		return time.Time{}, form
	case frac != 3:
		return time.Time{}, fmt.Sprintf("must have exactly 3 fractional second digits, not %d", frac)
	}
	return dateTime(s)
}

func dateTime(s string) (time.Time, string) {
	year, month, day := atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
	hour, minute, sec, ms := atoi(s[11:13]), atoi(s[14:16]), atoi(s[17:19]), atoi(s[20:23])
	switch {
	case month < 1 || month > 12:
		return time.Time{}, "month out of range"
	case day < 1 || day > daysIn(year, month):
		return time.Time{}, "day out of range"
	case hour > 23:
		return time.Time{}, "hour out of range"
	case minute > 59:
		return time.Time{}, "minute out of range"
	case sec > 59:
		return time.Time{}, "second out of range (leap seconds are not allowed)"
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.UTC), ""
}

func digitsAt(s string, i, n int) bool {
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	return n
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// checkTime returns what stops t from being encoded exactly, or "".
func checkTime(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Year() < 0 || t.Year() > 9999:
		return fmt.Sprintf("year %d is outside 0000 to 9999", t.Year())
	case t.Nanosecond()%int(time.Millisecond) != 0:
		return "not a whole number of milliseconds (use Truncate(time.Millisecond))"
	}
	return ""
}
