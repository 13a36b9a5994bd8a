//go:build tools

// Package tools pins the kwok command this module builds (`go build sigs.k8s.io/kwok/cmd/kwok`):
// the import keeps it, and everything it needs, in go.mod and go.sum.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
