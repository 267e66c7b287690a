package escrow

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tillit/tillit/internal/jsonpos"
)

// This file parses inventories (spec §Inventory formats) into declarations.
// Parsers return either a valid declaration in canonical order or a
// *ParseError naming the line, column and field; never a partial result.

// ParseJSON parses an inventory in the JSON shape of spec §Inventory formats:
//
//	{"regions": [{"name": "...", "sites": [{"name": "...",
//	  "items": [{"id": "...", "category": "...", "attrs": {"k": "v"}}]}]}]}
//
// "regions" may be null; "sites", "items" and "attrs" may be omitted or null. Unknown and duplicate
// keys are rejected.
func ParseJSON(data []byte) (*Declaration, error) {
	if !utf8.Valid(data) {
		return nil, positioned(data, int64(jsonpos.InvalidUTF8(data)), fmt.Errorf("invalid UTF-8: %w", ErrMalformed))
	}
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), ids: map[string]int64{}}
	d, err := p.declaration()
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.errAt(p.dec.InputOffset(), "", fmt.Errorf("%w: data after the inventory", ErrMalformed))
	}
	return d.Canonical(), nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
	ids  map[string]int64 // item id → offset of its first declaration
}

func (p *jsonParser) declaration() (*Declaration, error) {
	d := &Declaration{}
	regions := map[string]bool{}
	err := p.object("", false, []string{"regions"}, func(key string) error {
		if key != "regions" {
			return p.unknown("", key)
		}
		return p.array("regions", true, func(i int) error {
			path := fmt.Sprintf("regions[%d]", i)
			r, off, err := p.region(path)
			if err == nil && regions[r.Name] {
				err = p.errAt(off, path+".name", fmt.Errorf("region %q: %w region name", r.Name, ErrDuplicate))
			}
			regions[r.Name] = true
			d.Regions = append(d.Regions, r)
			return err
		})
	})
	return d, err
}

func (p *jsonParser) region(path string) (Region, int64, error) {
	var r Region
	var nameOff int64
	sites := map[string]bool{}
	err := p.object(path, false, []string{"name"}, func(key string) error {
		switch key {
		case "name":
			var err error
			r.Name, nameOff, err = p.name(path + ".name")
			return err
		case "sites":
			return p.array(path+".sites", true, func(i int) error {
				sp := fmt.Sprintf("%s.sites[%d]", path, i)
				s, off, err := p.site(sp)
				if err == nil && sites[s.Name] {
					err = p.errAt(off, sp+".name", fmt.Errorf("site %q: %w site name", s.Name, ErrDuplicate))
				}
				sites[s.Name] = true
				r.Sites = append(r.Sites, s)
				return err
			})
		}
		return p.unknown(path, key)
	})
	return r, nameOff, err
}

func (p *jsonParser) site(path string) (Site, int64, error) {
	var s Site
	var nameOff int64
	err := p.object(path, false, []string{"name"}, func(key string) error {
		switch key {
		case "name":
			var err error
			s.Name, nameOff, err = p.name(path + ".name")
			return err
		case "items":
			return p.array(path+".items", true, func(i int) error {
				it, err := p.item(fmt.Sprintf("%s.items[%d]", path, i))
				s.Items = append(s.Items, it)
				return err
			})
		}
		return p.unknown(path, key)
	})
	return s, nameOff, err
}

func (p *jsonParser) item(path string) (Item, error) {
	var it Item
	err := p.object(path, false, []string{"id", "category"}, func(key string) error {
		var err error
		switch key {
		case "id":
			var off int64
			if it.ID, off, err = p.name(path + ".id"); err != nil {
				return err
			}
			if first, dup := p.ids[it.ID]; dup {
				line := positioned(p.data, first, nil).Line
				return p.errAt(off, path+".id", fmt.Errorf("item %q: %w item id (first on line %d)", it.ID, ErrDuplicate, line))
			}
			p.ids[it.ID] = off
			return nil
		case "category":
			it.Category, _, err = p.name(path + ".category")
			return err
		case "attrs":
			it.Attrs, err = p.attrs(path + ".attrs")
			return err
		}
		return p.unknown(path, key)
	})
	return it, err
}

func (p *jsonParser) attrs(path string) (map[string]string, error) {
	attrs := map[string]string{}
	err := p.object(path, true, nil, func(key string) error {
		if err := validAttrKey(key); err != nil {
			return p.errAt(p.dec.InputOffset(), path, fmt.Errorf("attribute key %q: %w", key, err))
		}
		v, off, err := p.str(path + "." + key)
		if err != nil {
			return err
		}
		if err := validValue(v); err != nil {
			return p.errAt(off, path+"."+key, err)
		}
		attrs[key] = v
		return nil
	})
	return attrs, err
}

// object reads one JSON object, calling fn after each key with the decoder
// positioned at the value. Keys must be unique; required keys must appear.
// An optional object may be null.
func (p *jsonParser) object(path string, optional bool, required []string, fn func(key string) error) error {
	if null, err := p.open('{', path, optional); null || err != nil {
		return err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		off := p.dec.InputOffset()
		tok, err := p.token(path)
		if err != nil {
			return err
		}
		key := tok.(string)
		if seen[key] {
			return p.errAt(off, path, fmt.Errorf("key %q: %w key", key, ErrDuplicate))
		}
		seen[key] = true
		if err := fn(key); err != nil {
			return err
		}
	}
	for _, k := range required {
		if !seen[k] {
			return p.errAt(p.dec.InputOffset(), path, fmt.Errorf("%w: missing %q", ErrMalformed, k))
		}
	}
	return p.close('}', path)
}

// array reads one JSON array, calling fn for each element. An optional array
// may be null.
func (p *jsonParser) array(path string, optional bool, fn func(i int) error) error {
	if null, err := p.open('[', path, optional); null || err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	return p.close(']', path)
}

// open reads the opening delimiter of an object or array, or a null if the
// container is optional (null stands for an absent or empty container).
func (p *jsonParser) open(want json.Delim, path string, optional bool) (null bool, err error) {
	off := p.dec.InputOffset()
	tok, err := p.token(path)
	if err != nil {
		return false, err
	}
	if tok == nil && optional {
		return true, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return false, p.errAt(off, path, fmt.Errorf("%w: found %v, want %q", ErrMalformed, tokenString(tok), string(want)))
	}
	return false, nil
}

func (p *jsonParser) close(want json.Delim, path string) error {
	_, err := p.open(want, path, false)
	return err
}

func (p *jsonParser) str(path string) (string, int64, error) {
	off := p.dec.InputOffset()
	tok, err := p.token(path)
	if err != nil {
		return "", off, err
	}
	s, ok := tok.(string)
	if !ok {
		return "", off, p.errAt(off, path, fmt.Errorf("%w: found %v, want a string", ErrMalformed, tokenString(tok)))
	}
	return s, off, nil
}

func (p *jsonParser) name(path string) (string, int64, error) {
	s, off, err := p.str(path)
	if err != nil {
		return "", off, err
	}
	if err := validName(s); err != nil {
		return "", off, p.errAt(off, path, fmt.Errorf("%q: %w", s, err))
	}
	return s, off, nil
}

func (p *jsonParser) token(path string) (json.Token, error) {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, p.errAt(off, path, fmt.Errorf("%w: unexpected end of input", ErrMalformed))
	}
	if err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			off = syn.Offset
		}
		return nil, p.errAt(off, path, fmt.Errorf("%v: %w", err, ErrMalformed))
	}
	return tok, nil
}

func (p *jsonParser) unknown(path, key string) error {
	return p.errAt(p.dec.InputOffset(), path, fmt.Errorf("%w: unknown key %q", ErrMalformed, key))
}

// errAt positions err at the first significant byte at or after off.
func (p *jsonParser) errAt(off int64, field string, err error) error {
	for off < int64(len(p.data)) && strings.IndexByte(" \t\r\n:,", p.data[off]) >= 0 {
		off++
	}
	pe := positioned(p.data, off, err)
	pe.Field = field
	return pe
}

func tokenString(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("string %q", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// csvHeader is the required first line of a CSV inventory.
var csvHeader = []string{"region", "site", "id", "category"}

// ParseCSV parses an inventory in the CSV shape of spec §Inventory formats
// (RFC 4180): a header line "region,site,id,category", then one line per
// item with those four fields and any number of "key=value" attributes.
func ParseCSV(data []byte) (*Declaration, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, csvError(r, err, "header")
	}
	if !slices.Equal(header, csvHeader) {
		return nil, &ParseError{Line: 1, Column: 1, Field: "header",
			Err: fmt.Errorf("%w: found %q, want %q", ErrMalformed, strings.Join(header, ","), strings.Join(csvHeader, ","))}
	}
	b := newCSVBuilder()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return b.declaration(), nil
		}
		if err != nil {
			return nil, csvError(r, err, "")
		}
		if err := b.add(r, rec); err != nil {
			return nil, err
		}
	}
}

// csvBuilder groups CSV rows into regions and sites.
type csvBuilder struct {
	regions map[string]map[string][]Item
	ids     map[string]int // item id → line
}

func newCSVBuilder() *csvBuilder {
	return &csvBuilder{regions: map[string]map[string][]Item{}, ids: map[string]int{}}
}

func (b *csvBuilder) add(r *csv.Reader, rec []string) error {
	if len(rec) < len(csvHeader) {
		line, _ := r.FieldPos(0)
		return &ParseError{Line: line, Column: 1, Field: csvHeader[len(rec)],
			Err: fmt.Errorf("%w: %d fields, want at least %d", ErrMalformed, len(rec), len(csvHeader))}
	}
	for i := range csvHeader {
		if err := validName(rec[i]); err != nil {
			return fieldError(r, i, csvHeader[i], fmt.Errorf("%q: %w", rec[i], err))
		}
	}
	if first, dup := b.ids[rec[2]]; dup {
		return fieldError(r, 2, "id", fmt.Errorf("item %q: %w item id (first on line %d)", rec[2], ErrDuplicate, first))
	}
	it := Item{ID: rec[2], Category: rec[3]}
	for i := len(csvHeader); i < len(rec); i++ {
		if err := addAttr(&it, rec[i]); err != nil {
			return fieldError(r, i, fmt.Sprintf("attribute %d", i-len(csvHeader)+1), err)
		}
	}
	b.ids[it.ID], _ = r.FieldPos(2)
	sites := b.regions[rec[0]]
	if sites == nil {
		sites = map[string][]Item{}
		b.regions[rec[0]] = sites
	}
	sites[rec[1]] = append(sites[rec[1]], it)
	return nil
}

func addAttr(it *Item, cell string) error {
	k, v, ok := strings.Cut(cell, "=")
	if !ok {
		return fmt.Errorf("%q: %w: want key=value", cell, ErrMalformed)
	}
	if err := validName(k); err != nil {
		return fmt.Errorf("attribute key %q: %w", k, err)
	}
	if err := validValue(v); err != nil {
		return fmt.Errorf("attribute %q value: %w", k, err)
	}
	if _, dup := it.Attrs[k]; dup {
		return fmt.Errorf("attribute %q: %w attribute key", k, ErrDuplicate)
	}
	if it.Attrs == nil {
		it.Attrs = map[string]string{}
	}
	it.Attrs[k] = v
	return nil
}

func (b *csvBuilder) declaration() *Declaration {
	d := &Declaration{}
	for name, sites := range b.regions {
		r := Region{Name: name}
		for site, items := range sites {
			r.Sites = append(r.Sites, Site{Name: site, Items: items})
		}
		d.Regions = append(d.Regions, r)
	}
	return d.Canonical()
}

func fieldError(r *csv.Reader, i int, field string, err error) error {
	line, col := r.FieldPos(i)
	return &ParseError{Line: line, Column: col, Field: field, Err: err}
}

func csvError(r *csv.Reader, err error, field string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Column: pe.Column, Field: field, Err: fmt.Errorf("%v: %w", pe.Err, ErrMalformed)}
	}
	if err == io.EOF {
		return &ParseError{Line: 1, Field: field, Err: fmt.Errorf("%w: empty input, want a header line", ErrMalformed)}
	}
	return &ParseError{Field: field, Err: fmt.Errorf("%v: %w", err, ErrMalformed)}
}
