// Package codegen declares the one type of the .NET code generator that the docker-build provider
// uses: the C# section of its schema's language metadata.
package codegen

// CSharpPackageInfo is the "csharp" entry of a schema's language map.
type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
