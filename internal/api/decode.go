package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/tillit/tillit/internal/jsonpos"
)

// decode reads the JSON body of r into v, strictly: the Content-Type must be
// application/json, the body at most MaxBodyBytes of UTF-8 holding exactly
// one JSON object with no unknown and no repeated fields. On failure it
// answers with a problem and returns false.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if p := checkContentType(r.Header.Get("Content-Type")); p != nil {
		w.Header().Set("Accept-Post", "application/json")
		writeProblem(w, p)
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, problem(http.StatusRequestEntityTooLarge, TypeBodyTooLarge, "Request body too large",
				"body larger than %s", formatBytes(tooLarge.Limit)))
		} else {
			h.log.Debug("api: couldn't read request body", "err", err)
			writeProblem(w, problem(http.StatusBadRequest, TypeInvalidBody, "Malformed request body", "couldn't read the body: %v", err))
		}
		return false
	}
	if detail := decodeStrict(data, v); detail != "" {
		writeProblem(w, problem(http.StatusBadRequest, TypeInvalidBody, "Malformed request body", "%s", detail))
		return false
	}
	return true
}

// checkContentType accepts application/json, with no charset or UTF-8.
func checkContentType(ct string) *Problem {
	bad := func(format string, args ...any) *Problem {
		return problem(http.StatusUnsupportedMediaType, TypeUnsupportedMedia, "Unsupported media type", format, args...)
	}
	if ct == "" {
		return bad("the request has no Content-Type; send the body as application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return bad("Content-Type %q is malformed: %v", ct, err)
	}
	if mt != "application/json" {
		return bad("Content-Type is %s; send the body as application/json", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return bad("charset %q; JSON must be UTF-8", cs)
	}
	return nil
}

// decodeStrict decodes the JSON object data into v and returns what is wrong
// with it, or "".
func decodeStrict(data []byte, v any) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "body is empty; send a JSON object"
	}
	if i := jsonpos.InvalidUTF8(data); i < len(data) {
		return fmt.Sprintf("body is not valid UTF-8 at byte %d", i)
	}
	if c := bytes.TrimLeft(data, " \t\r\n"); c[0] != '{' {
		if json.Valid(c) {
			return "body must be a JSON object, not " + jsonKind(c[0])
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Sprintf("unexpected data after the JSON object at byte %d; send one object", dec.InputOffset())
	}
	if k := repeatedKey(data); k != "" {
		return fmt.Sprintf("field %q appears more than once", k)
	}
	return ""
}

// jsonError describes a decoding error in terms of the request body.
func jsonError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("body is not valid JSON: %s (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("body must be a JSON object, not %s", article(typ.Value))
		}
		return fmt.Sprintf("field %q must be %s, not %s", typ.Field, goKind(typ.Type), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body ends inside the JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// repeatedKey returns a key that appears twice at the top level of the JSON
// object data, which encoding/json would silently resolve to the last.
func repeatedKey(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		k, _ := t.(string)
		if seen[k] {
			return k
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// article puts "a" or "an" before a JSON kind as encoding/json names it.
func article(kind string) string {
	switch {
	case kind == "bool":
		return "a boolean"
	case kind == "" || kind == "null":
		return "null"
	case strings.HasPrefix(kind, "number"):
		return "a number"
	case strings.ContainsAny(kind[:1], "aeiou"):
		return "an " + kind
	}
	return "a " + kind
}

// goKind names the JSON a Go type takes.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if e := goKind(t.Elem()); strings.HasPrefix(e, "a ") {
			return "an array of " + strings.TrimPrefix(e, "a ") + "s"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// formatBytes writes a byte count the way people read limits: "1 MiB",
// "64 KiB", "1000 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
