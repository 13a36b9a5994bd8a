//go:build tools

// Package tools pins the source-controller command this module builds (`go build github.com/fluxcd/source-controller`): the
// import keeps it, and everything it needs, in go.mod and go.sum.
package tools

import _ "github.com/fluxcd/source-controller"
