// Package lienthongproto holds lienthong's contract: the .proto sources, the Go generated
// from them under gen/, and the merged OpenAPI document the gateway serves.
package lienthongproto

import _ "embed"

// OpenAPI is the merged OpenAPI (Swagger 2.0) document generated from every service.
//
//go:embed gen/openapi/lienthong.swagger.json
var OpenAPI []byte
