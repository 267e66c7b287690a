package regime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/tillit/tillit/statement"
)

// fileRegime is the regime file as decoded from TOML (spec section "Regime
// file"). Optional settings are pointers, so that an empty value is told
// apart from a missing one.
type fileRegime struct {
	ID             string           `toml:"id"`
	Title          string           `toml:"title"`
	Version        int64            `toml:"version"`
	Previous       *string          `toml:"previous"`
	LogAccess      *string          `toml:"log_access"`
	ClockTolerance *string          `toml:"clock_tolerance"`
	Heartbeat      *string          `toml:"heartbeat"`
	WitnessPolicy  *fileWitness     `toml:"witness_policy"`
	Inspections    *fileInspections `toml:"inspections"`
	Party          []fileParty      `toml:"party"`
	Type           []fileType       `toml:"type"`
}

type fileParty struct {
	CosignKey string   `toml:"cosign_key" json:"cosign_key"`
	Endpoints []string `toml:"endpoints" json:"endpoints"`
	LogKey    string   `toml:"log_key" json:"log_key"`
	Name      string   `toml:"name" json:"name"`
	Role      string   `toml:"role" json:"role"`
	TLSKey    string   `toml:"tls_key" json:"tls_key"`
}

type fileType struct {
	Name          string      `toml:"name"`
	Schema        *string     `toml:"schema"`
	Precedence    *string     `toml:"precedence"`
	ReceiptWithin *string     `toml:"receipt_within"`
	AckWithin     *string     `toml:"ack_within"`
	ReplyType     *string     `toml:"reply_type"`
	MinRefs       *int64      `toml:"min_refs"`
	NoticeBefore  *fileNotice `toml:"notice_before"`
	NotifyWithin  *fileNotify `toml:"notify_within"`
}

type fileNotice struct {
	Field   string  `toml:"field"`
	AtLeast *string `toml:"at_least"`
}

type fileNotify struct {
	Field  string  `toml:"field"`
	Within *string `toml:"within"`
}

type fileWitness struct {
	Witnesses []string `toml:"witnesses"`
	Quorum    any      `toml:"quorum"` // int64, "all" or "any"
}

type fileInspections struct {
	PerHostPerYear      *int64 `toml:"per_host_per_year" json:"per_host_per_year"`
	PerInspectorPerYear *int64 `toml:"per_inspector_per_year" json:"per_inspector_per_year"`
}

// Load reads and validates the regime file at path (spec section "Regime
// file"). Schema files named in it are read relative to the file's directory
// and must lie inside it. Errors about the file's content are [*Error]
// values naming path; an unreadable file gives the I/O error, wrapped.
func Load(path string) (*Regime, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("regime: couldn't read regime file: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, &Error{File: path, Err: ErrInvalid, Msg: fmt.Sprintf("file is %d bytes, more than %d", fi.Size(), MaxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("regime: couldn't read regime file: %w", err)
	}
	r, err := Parse(data, os.DirFS(filepath.Dir(path)))
	if e, ok := errors.AsType[*Error](err); ok {
		e.File = path
	}
	return r, err
}

// Parse parses and validates a regime file (spec section "Regime file").
// Schema files it names are read from fsys; if fsys is nil, every schema
// must be inline.
func Parse(data []byte, fsys fs.FS) (*Regime, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Err: ErrInvalid, Msg: fmt.Sprintf("file is %d bytes, more than %d", len(data), MaxFileSize)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{Err: ErrSyntax, Msg: "file is not valid UTF-8"}
	}
	var f fileRegime
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, &Error{Err: ErrSyntax, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	if err := unknownKey(md, &f); err != nil {
		return nil, err
	}
	return build(&f, fsys)
}

// unknownKey reports the first key in the file that the format does not
// define, naming the party or type it is in.
func unknownKey(md toml.MetaData, f *fileRegime) error {
	undecoded := md.Undecoded()
	if len(undecoded) == 0 {
		return nil
	}
	unknown := make(map[string]bool, len(undecoded))
	for _, k := range undecoded {
		unknown[k.String()] = true
	}
	party, typ := -1, -1
	for _, k := range md.Keys() {
		if len(k) == 1 && md.Type(k...) == "ArrayHash" {
			switch k[0] {
			case "party":
				party++
			case "type":
				typ++
			}
		}
		if !unknown[k.String()] {
			continue
		}
		field := ""
		rest := k
		switch {
		case len(k) > 1 && k[0] == "party" && party >= 0 && party < len(f.Party):
			field, rest = partyField(party, f.Party[party].Name, ""), k[1:]
		case len(k) > 1 && k[0] == "type" && typ >= 0 && typ < len(f.Type):
			field, rest = typeField(typ, f.Type[typ].Name, ""), k[1:]
		}
		return &Error{Field: field, Err: ErrUnknownKey, Msg: fmt.Sprintf("unknown key %q", rest.String())}
	}
	return &Error{Err: ErrUnknownKey, Msg: fmt.Sprintf("unknown key %q", undecoded[0].String())}
}

// partyField names a field of the i-th party (from 0), by the party's name
// if it has a valid one.
func partyField(i int, name, field string) string {
	return itemField("party", i, name, field)
}

func typeField(i int, name, field string) string {
	return itemField("type", i, name, field)
}

func itemField(kind string, i int, name, field string) string {
	var s string
	if statement.ValidName(name) {
		s = fmt.Sprintf("%s %q", kind, name)
	} else {
		s = fmt.Sprintf("%s #%d", kind, i+1)
	}
	if field != "" {
		s += "." + field
	}
	return s
}

// parseDuration parses a duration setting: a Go duration such as "90s",
// "5m", "48h" or "1h30m", or a whole number of days such as "42d". It must
// be positive, a whole number of milliseconds, and at most MaxDuration.
func parseDuration(s string) (time.Duration, string) {
	const want = `want a duration like "90s", "5m", "48h" or "42d"`
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days > int64(MaxDuration/(24*time.Hour)) {
			return 0, fmt.Sprintf("duration %q is longer than %s", truncate(s), human(MaxDuration))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			// ParseDuration reports overflow as an invalid duration too.
			if strings.Trim(s, "0123456789.nsuµmh") == "" && strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "nsuµmh") {
				return 0, fmt.Sprintf("duration %q is longer than %s", truncate(s), human(MaxDuration))
			}
			return 0, fmt.Sprintf("invalid duration %q (%s)", truncate(s), want)
		}
	}
	switch {
	case d < 0:
		return 0, fmt.Sprintf("duration %q is negative", truncate(s))
	case d == 0:
		return 0, fmt.Sprintf("duration %q is zero", truncate(s))
	case d%time.Millisecond != 0:
		return 0, fmt.Sprintf("duration %q is not a whole number of milliseconds", truncate(s))
	case d > MaxDuration:
		return 0, fmt.Sprintf("duration %q is longer than %s", truncate(s), human(MaxDuration))
	}
	return d, ""
}
