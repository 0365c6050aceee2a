// Stands in for github.com/pulumi/pulumi-java, which the Go module proxy does not serve: only the
// type the docker-build provider uses (see ../../go.mod).
module github.com/pulumi/pulumi-java

go 1.26.0
