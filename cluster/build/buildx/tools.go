//go:build tools

// Package tools pins the buildx command this module builds.
package tools

import _ "github.com/docker/buildx/cmd/buildx"
