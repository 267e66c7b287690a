package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tillit/tillit/internal/api/apitest"
)

// TestOpenAPIRoutes checks that the OpenAPI document describes exactly the
// handler's routes, and that its references resolve.
func TestOpenAPIRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var inDoc []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
			}
		}
	}
	h := newHandler(apitest.New("r", "P", nil), testConfig(), nil, Options{})
	var inHandler []string
	for _, rt := range h.routes {
		inHandler = append(inHandler, rt.method+" "+rt.path)
	}
	slices.Sort(inDoc)
	slices.Sort(inHandler)
	for _, r := range inHandler {
		if !slices.Contains(inDoc, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range inDoc {
		if !slices.Contains(inHandler, r) {
			t.Errorf("openapi.json has %s, which the handler does not serve", r)
		}
	}
	// Public routes, and only they, have "security": [].
	for _, rt := range h.routes {
		var op struct {
			Security *[]any `json:"security"`
		}
		json.Unmarshal(doc.Paths[rt.path][strings.ToLower(rt.method)], &op)
		if open := op.Security != nil && len(*op.Security) == 0; open != (rt.access == public) {
			t.Errorf("%s %s: public in openapi.json %v, in the handler %v", rt.method, rt.path, open, rt.access == public)
		}
	}

	var all any
	json.Unmarshal(openapiJSON, &all)
	walkRefs(all, func(ref string) {
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("external $ref %q", ref)
			return
		}
		var v any = all
		for _, part := range strings.Split(ref[2:], "/") {
			m, ok := v.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref %q does not resolve", ref)
				return
			}
			v = m[part]
		}
	})
}

func walkRefs(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				f(s)
			}
			walkRefs(e, f)
		}
	case []any:
		for _, e := range v {
			walkRefs(e, f)
		}
	}
}
