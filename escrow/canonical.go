package escrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tillit/tillit/internal/jsonpos"
)

// This file implements spec §JSON encoding: every reveal, opening,
// commitment and secret has exactly one accepted encoding, the one Go's
// encoding/json Marshal produces, up to insignificant whitespace.

// decodeCanonical decodes data into v and rejects anything that does not
// re-encode to the same bytes (after removing insignificant whitespace):
// unknown, missing, duplicate or differently-cased keys, keys out of order,
// empty arrays or objects that must be omitted, escapes other than the
// canonical ones, invalid UTF-8 and trailing data. Errors give the line and
// column, and show the canonical bytes expected there.
func decodeCanonical(data []byte, v any) error {
	if !utf8.Valid(data) {
		return positioned(data, int64(jsonpos.InvalidUTF8(data)), fmt.Errorf("invalid UTF-8: %w", ErrMalformed))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		off := int64(len(data) - len(rest))
		return positioned(data, off, fmt.Errorf("%w: data after the JSON value", ErrMalformed))
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("re-encoding: %v: %w", err, ErrMalformed)
	}
	if bytes.Equal(data, canon) {
		return nil // the common case: already compact
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return jsonError(data, err)
	}
	if got := compact.Bytes(); !bytes.Equal(got, canon) {
		i := jsonpos.FirstDiff(got, canon)
		return positioned(data, int64(jsonpos.Original(data, i)), fmt.Errorf(
			"%w: not in canonical form: found %q where the canonical encoding has %q",
			ErrMalformed, jsonpos.Window(got, i), jsonpos.Window(canon, i)))
	}
	return nil
}

// ParseCommitment decodes and checks a commitment (spec §Commitment).
func ParseCommitment(data []byte) (*Commitment, error) {
	var c Commitment
	if err := decodeCanonical(data, &c); err != nil {
		return nil, fmt.Errorf("commitment: %w", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseIndexReveal decodes an index reveal (spec §Index reveal).
func ParseIndexReveal(data []byte) (*IndexReveal, error) {
	return parseCanonical[IndexReveal](data, "index reveal")
}

// ParseSitesReveal decodes a site list reveal (spec §Site list reveal).
func ParseSitesReveal(data []byte) (*SitesReveal, error) {
	return parseCanonical[SitesReveal](data, "site list reveal")
}

// ParseRegionOpening decodes a region opening (spec §Region opening).
func ParseRegionOpening(data []byte) (*RegionOpening, error) {
	return parseCanonical[RegionOpening](data, "region opening")
}

// ParseSiteOpening decodes a site opening (spec §Site opening).
func ParseSiteOpening(data []byte) (*SiteOpening, error) {
	return parseCanonical[SiteOpening](data, "site opening")
}

// ParseItemOpening decodes an item opening (spec §Item opening).
func ParseItemOpening(data []byte) (*ItemOpening, error) {
	return parseCanonical[ItemOpening](data, "item opening")
}

func parseCanonical[T any](data []byte, what string) (*T, error) {
	var v T
	if err := decodeCanonical(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &v, nil
}

// jsonError turns an encoding/json error into a positioned ParseError.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var hash *hashError
	switch {
	case errors.As(err, &hash):
		return positioned(data, int64(bytes.Index(data, []byte(`"`+hash.text+`"`))), err)
	case errors.As(err, &syn):
		return positioned(data, syn.Offset, fmt.Errorf("%v: %w", err, ErrMalformed))
	case errors.As(err, &typ):
		pe := positioned(data, typ.Offset, fmt.Errorf("%v: %w", err, ErrMalformed))
		pe.Field = typ.Field
		return pe
	case errors.Is(err, ErrMalformed):
		return err
	}
	return fmt.Errorf("%v: %w", err, ErrMalformed)
}

// positioned wraps err with the line and column of byte offset off.
func positioned(data []byte, off int64, err error) *ParseError {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return &ParseError{Line: line, Column: col, Err: err}
}
