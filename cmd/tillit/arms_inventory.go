package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
)

// This file reads the files an analyst gives the commands: inventories to
// declare (escrow spec §Inventory formats) and the items inspectors observed
// at a site. Either is CSV or JSON; a reader rejects the whole file on the
// first error, naming the line, and the field where it can.

// maxInputFile bounds an inventory or findings file.
const maxInputFile = 256 << 20

// Input formats.
const (
	formatAuto = ""
	formatCSV  = "csv"
	formatJSON = "json"
)

// readInput reads a file, or stdin for "-".
func readInput(name string) ([]byte, error) {
	r := io.Reader(os.Stdin)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("couldn't read %s: %w", name, unwrapPath(err))
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("couldn't read %s: %w", name, err)
	}
	if len(b) > maxInputFile {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxInputFile>>20)
	}
	return b, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// inputFormat decides a file's format: as given, else by its extension
// (.csv, .json), else JSON if it starts with '{' or '[' and CSV otherwise.
func inputFormat(name, format string, data []byte) (string, error) {
	switch strings.ToLower(format) {
	case formatCSV:
		return formatCSV, nil
	case formatJSON:
		return formatJSON, nil
	case formatAuto:
	default:
		return "", fmt.Errorf("--format %q is not csv or json", format)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return formatCSV, nil
	case ".json":
		return formatJSON, nil
	}
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return formatJSON, nil
	}
	return formatCSV, nil
}

const inventoryHint = "an inventory is CSV whose first line is region,site,id,category, then one line per item: " +
	"region,site,id,category[,key=value...]; or JSON {\"regions\":[{\"name\":…,\"sites\":[{\"name\":…,\"items\":[{\"id\":…,\"category\":…}]}]}]} (docs/arms-control.md)"

// parseInventory parses an inventory file's contents into a declaration in
// canonical order. Errors name the file, line, column and field.
func parseInventory(name, format string, data []byte) (*escrow.Declaration, error) {
	f, err := inputFormat(name, format, data)
	if err != nil {
		return nil, err
	}
	var d *escrow.Declaration
	if f == formatCSV {
		d, err = escrow.ParseCSV(data)
	} else {
		d, err = escrow.ParseJSON(data)
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %s", displayName(name), cleanEscrowError(err)), inventoryHint)
	}
	return d, nil
}

func displayName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// cleanEscrowError drops the package prefixes from an escrow error for
// the command line.
func cleanEscrowError(err error) string {
	return strings.ReplaceAll(err.Error(), "escrow: ", "")
}

const observedHint = "findings are CSV whose first line is id,category, then one line per item observed; " +
	"or JSON [{\"id\":…,\"category\":…}, …] or {\"items\":[…]} (docs/arms-control.md)"

// parseObserved parses the items inspectors observed at a site: CSV with the
// header line "id,category" and one item per line, or JSON, an array of
// {"id": …, "category": …} objects or an object {"items": [...]}. Ids and
// categories are escrow names; ids must be unique. The result is in
// ascending bytewise id order, as findings list them.
func parseObserved(name, format string, data []byte) ([]inspect.Observed, error) {
	f, err := inputFormat(name, format, data)
	if err != nil {
		return nil, err
	}
	var items []observedAt
	if f == formatCSV {
		items, err = observedCSV(data)
	} else {
		items, err = observedJSON(data)
	}
	if err == nil {
		err = checkObserved(items)
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", displayName(name), err), observedHint)
	}
	out := make([]inspect.Observed, len(items))
	for i, it := range items {
		out[i] = it.Observed
	}
	slices.SortFunc(out, func(a, b inspect.Observed) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// observedAt is an observed item and the line it is on.
type observedAt struct {
	inspect.Observed
	line int
}

// inputError names where an input file is wrong.
type inputError struct {
	line  int
	field string
	msg   string
}

func (e *inputError) Error() string {
	s := ""
	if e.line > 0 {
		s = fmt.Sprintf("line %d: ", e.line)
	}
	if e.field != "" {
		s += e.field + ": "
	}
	return s + e.msg
}

func observedCSV(data []byte) ([]observedAt, error) {
	if !utf8.Valid(data) {
		return nil, &inputError{line: 1 + bytes.Count(data[:invalidUTF8(data)], []byte("\n")), msg: "invalid UTF-8"}
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	var out []observedAt
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			if n == 0 {
				return nil, &inputError{line: 1, field: "header", msg: `empty; want the line "id,category"`}
			}
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &inputError{line: pe.Line, msg: pe.Err.Error()}
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if n == 0 {
			if len(rec) != 2 || rec[0] != "id" || rec[1] != "category" {
				return nil, &inputError{line: line, field: "header", msg: fmt.Sprintf("found %q, want \"id,category\"", strings.Join(rec, ","))}
			}
			continue
		}
		if len(rec) != 2 {
			return nil, &inputError{line: line, msg: fmt.Sprintf("%d fields, want 2: id,category", len(rec))}
		}
		out = append(out, observedAt{Observed: inspect.Observed{ID: rec[0], Category: rec[1]}, line: line})
	}
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func observedJSON(data []byte) ([]observedAt, error) {
	if !utf8.Valid(data) {
		return nil, &inputError{line: lineAt(data, invalidUTF8(data)), msg: "invalid UTF-8"}
	}
	d := json.NewDecoder(bytes.NewReader(data))
	fail := func(off int64, field, format string, args ...any) error {
		return &inputError{line: lineAt(data, int(off)), field: field, msg: fmt.Sprintf(format, args...)}
	}
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "", "%v", se)
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(int64(len(data)), "", "unexpected end of input")
		}
		return fail(d.InputOffset(), "", "%v", err)
	}
	tok, err := d.Token()
	if err != nil {
		return nil, syntax(err)
	}
	path := ""
	switch tok {
	case json.Delim('['):
	case json.Delim('{'):
		k, err := d.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if k != "items" {
			return nil, fail(d.InputOffset(), "", "unknown key %v; want only \"items\"", jsonText(k))
		}
		if tok, err = d.Token(); err != nil {
			return nil, syntax(err)
		}
		if tok != json.Delim('[') {
			return nil, fail(d.InputOffset(), "items", "want an array")
		}
		path = "items"
	default:
		return nil, fail(0, "", "want an array of observed items, or an object {\"items\": [...]}")
	}
	var out []observedAt
	for i := 0; d.More(); i++ {
		field := fmt.Sprintf("%s[%d]", path, i)
		var raw json.RawMessage
		off := d.InputOffset()
		if err := d.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		// InputOffset is before the separator and whitespace; find the value.
		start := int(off) + bytes.IndexAny(data[off:], "{[\"tfn0123456789-")
		it, f, msg := observedItem(raw)
		if msg != "" {
			if f != "" {
				field += "." + f
			}
			return nil, fail(int64(start), field, "%s", msg)
		}
		out = append(out, observedAt{Observed: it, line: lineAt(data, start)})
	}
	if _, err := d.Token(); err != nil { // ']'
		return nil, syntax(err)
	}
	if path != "" {
		tok, err := d.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != json.Delim('}') {
			return nil, fail(d.InputOffset(), "", "unknown key %v; want only \"items\"", jsonText(tok))
		}
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fail(d.InputOffset(), "", "data after the items")
	}
	return out, nil
}

// observedItem decodes one {"id": …, "category": …} object, rejecting
// unknown, duplicate and missing keys and values that are not strings.
func observedItem(raw []byte) (it inspect.Observed, field, msg string) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, _ := d.Token(); tok != json.Delim('{') {
		return it, "", "want an object {\"id\": …, \"category\": …}"
	}
	seen := map[string]bool{}
	for d.More() {
		k, _ := d.Token()
		key, _ := k.(string)
		var v any
		if err := d.Decode(&v); err != nil {
			return it, key, err.Error()
		}
		s, ok := v.(string)
		switch {
		case key != "id" && key != "category":
			return it, "", fmt.Sprintf("unknown key %q", key)
		case seen[key]:
			return it, key, "given twice"
		case !ok:
			return it, key, "want a string"
		}
		seen[key] = true
		if key == "id" {
			it.ID = s
		} else {
			it.Category = s
		}
	}
	for _, key := range []string{"id", "category"} {
		if !seen[key] {
			return it, key, "missing"
		}
	}
	return it, "", ""
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func lineAt(data []byte, off int) int {
	off = max(0, min(off, len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// checkObserved checks names (escrow spec §Names) and that ids are unique.
func checkObserved(items []observedAt) error {
	first := map[string]int{}
	for _, it := range items {
		if msg := checkEscrowName(it.ID); msg != "" {
			return &inputError{line: it.line, field: "id", msg: fmt.Sprintf("%q: %s", it.ID, msg)}
		}
		if msg := checkEscrowName(it.Category); msg != "" {
			return &inputError{line: it.line, field: "category", msg: fmt.Sprintf("%q: %s", it.Category, msg)}
		}
		if l, dup := first[it.ID]; dup {
			return &inputError{line: it.line, field: "id", msg: fmt.Sprintf("%q observed twice (first on line %d); record the second object under an id of your own", it.ID, l)}
		}
		first[it.ID] = it.line
	}
	return nil
}

// checkEscrowName checks a region, site, id or category against escrow spec
// §Names: 1 to 128 bytes of printable UTF-8, no leading or trailing space.
func checkEscrowName(s string) string {
	switch {
	case s == "":
		return "empty"
	case len(s) > escrow.MaxNameLen:
		return fmt.Sprintf("%d bytes, more than %d", len(s), escrow.MaxNameLen)
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case s[0] == ' ' || s[len(s)-1] == ' ':
		return "leading or trailing space"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("unprintable character %U", r)
		}
	}
	return ""
}

// observedCSVText writes observed items in the CSV format parseObserved
// reads.
func observedCSVText(items []inspect.Observed) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"id", "category"})
	for _, it := range items {
		w.Write([]string{it.ID, it.Category})
	}
	w.Flush()
	return b.Bytes()
}

// declarationStats counts regions, sites and items.
func declarationStats(d *escrow.Declaration) (regions, sites, items int) {
	for _, r := range d.Regions {
		sites += len(r.Sites)
		for _, s := range r.Sites {
			items += len(s.Items)
		}
	}
	return len(d.Regions), sites, items
}

// categoryCounts counts items per category.
func categoryCounts(d *escrow.Declaration) map[string]int {
	counts := map[string]int{}
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				counts[it.Category]++
			}
		}
	}
	return counts
}

// describeCounts writes counts per category in category order, like
// "5 9M729.launcher, 11 9M729.missile".
func describeCounts(counts map[string]int) string {
	var cats []string
	for c := range counts {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	var out []string
	for _, c := range cats {
		out = append(out, fmt.Sprintf("%d %s", counts[c], c))
	}
	return strings.Join(out, ", ")
}

// plural writes n and a noun, adding s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
