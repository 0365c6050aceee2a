//go:build tools

// Package tools pins the provider command this module builds.
package tools

import _ "github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build"
