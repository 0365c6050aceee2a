// Package java declares the one type of the Java code generator that the docker-build provider
// uses: the Java section of its schema's language metadata.
package java

// PackageInfo is the "java" entry of a schema's language map (the JSON names of the provider's
// published schema.json).
type PackageInfo struct {
	BasePackage                     string            `json:"basePackage"`
	BuildFiles                      string            `json:"buildFiles"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion"`
	GradleTest                      string            `json:"gradleTest"`
}
