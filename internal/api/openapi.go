package api

import _ "embed"

// openapiJSON is the OpenAPI 3.1 description of the API, served at
// /api/openapi.json. A test checks that it lists exactly the handler's
// routes.
//
//go:embed openapi.json
var openapiJSON []byte
