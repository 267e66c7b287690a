package regime

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// draft2020 is the only $schema a body schema may declare.
const draft2020 = "https://json-schema.org/draft/2020-12/schema"

// noLoader refuses every outside document: a schema must be self-contained,
// so that the regime's hash covers all of it.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("schemas must be self-contained; references to other documents are not allowed")
}

var printer = message.NewPrinter(language.English)

// compileSchema checks and compiles a type's body schema (spec section
// "Schemas").
func compileSchema(text, typeName, field string) (*jsonschema.Schema, error) {
	if len(text) > MaxSchemaSize {
		return nil, invalid(field, "schema is %d bytes, more than %d", len(text), MaxSchemaSize)
	}
	if !utf8.ValidString(text) {
		return nil, invalid(field, "schema is not valid UTF-8")
	}
	if err := checkStrictJSON([]byte(text)); err != nil {
		return nil, invalid(field, "schema is not valid JSON: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, invalid(field, "schema is not valid JSON: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, invalid(field, "schema must be a JSON object")
	}
	if s, ok := obj["$schema"]; ok && s != draft2020 {
		return nil, invalid(field, "$schema must be %q (JSON Schema draft 2020-12) or absent", draft2020)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	// A hierarchical base URI, so that relative references resolve to
	// other documents (and are refused) rather than to this one.
	loc := "https://tillit.invalid/types/" + typeName + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, invalid(field, "schema: %v", err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, invalid(field, "schema does not compile: %s", oneLine(err.Error()))
	}
	return sch, nil
}

// checkStrictJSON checks that b is one JSON value with no duplicate object
// member names, which implementations would resolve differently.
func checkStrictJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := strictValue(d, 0); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the value")
	}
	return nil
}

func strictValue(d *json.Decoder, depth int) error {
	if depth > 128 {
		return errors.New("nested more than 128 levels")
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("duplicate member %q", truncate(key))
			}
			seen[key] = true
			if err := strictValue(d, depth+1); err != nil {
				return err
			}
		}
		_, err = d.Token()
	case json.Delim('['):
		for d.More() {
			if err := strictValue(d, depth+1); err != nil {
				return err
			}
		}
		_, err = d.Token()
	}
	return err
}

// decodeBody decodes a statement body for validation, keeping numbers exact.
func decodeBody(body []byte) (any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, stmtErr(ErrBody, "body", "not valid JSON: %v", err)
	}
	return v, nil
}

// validateBody checks a decoded statement body against the type's schema.
// The error names the JSON path of the most specific problem, like
// "body.launch_window.start".
func (t *Type) validateBody(v any) error {
	err := t.schema.Validate(v)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return stmtErr(ErrBody, "body", "%v", err)
	}
	type leaf struct {
		loc []string
		msg string
	}
	var leaves []leaf
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, leaf{e.InstanceLocation, e.ErrorKind.LocalizedString(printer)})
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	if len(leaves) == 0 {
		return stmtErr(ErrBody, "body", "does not match the schema of type %q", t.Name)
	}
	// The most specific problem first; ties in a fixed order, so that every
	// party reports the same one.
	slices.SortFunc(leaves, func(a, b leaf) int {
		if c := cmp.Compare(len(b.loc), len(a.loc)); c != 0 {
			return c
		}
		if c := slices.Compare(a.loc, b.loc); c != 0 {
			return c
		}
		return strings.Compare(a.msg, b.msg)
	})
	msg := leaves[0].msg
	if n := len(leaves) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more %s)", n, plural(n, "problem", "problems"))
	}
	return stmtErr(ErrBody, jsonPath(v, leaves[0].loc), "%s", msg)
}

// jsonPath renders an instance location in v as "body.a.b[2]", quoting
// member names that are not simple: body["a b"].
func jsonPath(v any, loc []string) string {
	var b strings.Builder
	b.WriteString("body")
	for _, tok := range loc {
		switch x := v.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			fmt.Fprintf(&b, "[%d]", i)
			if i >= 0 && i < len(x) {
				v = x[i]
			}
			continue
		case map[string]any:
			v = x[tok]
		}
		if simpleKey(tok) {
			b.WriteByte('.')
			b.WriteString(tok)
		} else {
			fmt.Fprintf(&b, "[%s]", strconv.Quote(truncate(tok)))
		}
	}
	return b.String()
}

func simpleKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// lookup returns the value at a dotted field path in a decoded body.
func lookup(body any, path string) (any, bool) {
	v := body
	for seg := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return v, true
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
