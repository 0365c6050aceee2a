// Stands in for github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3, which the Go module proxy
// does not serve: only the type the docker-build provider uses (see ../../go.mod).
module github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3

go 1.26.0
