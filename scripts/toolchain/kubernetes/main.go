// Command pulumi-resource-kubernetes is a thin wrapper around the upstream
// pulumi-kubernetes provider package. Upstream's own main embeds two
// generated files (schema-embed.json, terraform-mapping-embed.json) that are
// not part of the Go module zip; scripts/pulumi-toolchain.sh generates them
// into a build copy of this directory before running `go build`.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
