//go:build tools

// Package tools pins the BuildKit commands this module builds, so that `go mod tidy` keeps every
// module they need.
package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
