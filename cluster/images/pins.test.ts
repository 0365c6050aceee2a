/**
 * The image tools' pins agree everywhere they are written: cluster/lib.sh, the wrapper modules in
 * cluster/build/{buildkit,buildx,docker-build}/ (go.mod and go.sum), package.json's
 * @pulumi/docker-build (the provider and the SDK must be the same version), and the local registry's
 * port is one no other process of the cluster uses.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..");
const read = (p: string): string => readFileSync(join(REPO, p), "utf8");
const lib = read("cluster/lib.sh");

/** A variable's value as cluster/lib.sh assigns it (quoted or not). */
function pin(name: string): string {
  const m = new RegExp(`^${name}="?([^"\\s]+)"?`, "m").exec(lib);
  if (!m) throw new Error(`cluster/lib.sh does not set ${name}`);
  return m[1];
}

describe("image tool pins", () => {
  it.each([
    ["buildkit", "github.com/moby/buildkit", () => pin("BUILDKIT_VERSION")],
    ["buildx", "github.com/docker/buildx", () => pin("BUILDX_VERSION")],
    [
      "docker-build",
      "github.com/pulumi/pulumi-docker-build",
      () => `v${pin("DOCKER_BUILD_VERSION")}`,
    ],
  ])(
    "cluster/build/%s requires %s at lib.sh's version, with its checksum in go.sum",
    (dir, module, version) => {
      const v = version();
      expect(v).toMatch(/^v\d+\.\d+\.\d+$/);
      const gomod = read(`cluster/build/${dir}/go.mod`);
      expect(gomod).toMatch(
        new RegExp(`^(require |\\t)${module.replace(/\./g, "\\.")} ${v}$`, "m"),
      );
      expect(read(`cluster/build/${dir}/go.sum`)).toContain(`${module} ${v} h1:`);
    },
  );

  it("the docker-build provider is the version of the npm SDK the program uses", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["@pulumi/docker-build"]).toBe(pin("DOCKER_BUILD_VERSION"));
  });

  it("docker-build's two unserved codegen modules are replaced by local modules of the same path", () => {
    const gomod = read("cluster/build/docker-build/go.mod");
    for (const [module, dir] of [
      ["github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3", "codegen-stubs/dotnet"],
      ["github.com/pulumi/pulumi-java", "codegen-stubs/java"],
    ]) {
      expect(gomod).toContain(`${module} => ./${dir}`);
      expect(read(`cluster/build/docker-build/${dir}/go.mod`)).toMatch(
        new RegExp(`^module ${module.replace(/\./g, "\\.")}$`, "m"),
      );
    }
    expect(
      existsSync(join(REPO, "cluster/build/docker-build/codegen-stubs/dotnet/codegen/codegen.go")),
    ).toBe(true);
    expect(
      existsSync(
        join(REPO, "cluster/build/docker-build/codegen-stubs/java/pkg/codegen/java/java.go"),
      ),
    ).toBe(true);
  });

  it("the local registry's port is no other port of the cluster's", () => {
    const ports = [...lib.matchAll(/^([A-Z_]+_PORT)="?(?:\$\{[A-Z_]+:-)?(\d+)/gm)].map(
      ([, name, port]) => [name, Number(port)] as const,
    );
    const registry = ports.find(([name]) => name === "REGISTRY_PORT");
    expect(registry?.[1]).toBe(20500);
    expect(ports.filter(([, port]) => port === 20500).map(([name]) => name)).toEqual([
      "REGISTRY_PORT",
    ]);
    expect(ports.length).toBeGreaterThan(5);
  });
});
