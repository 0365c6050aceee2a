/**
 * How scripts/pulumi-toolchain.sh finds a toolchain it did not build: an official CLI in
 * PULUMI_HOME (where the npm `pulumi` package and pulumi/actions put it) with its language host beside
 * it, and the Kubernetes provider installed by `pulumi plugin install` (GitHub's CI). Stand-in
 * executables answer `version` like the real ones; nothing is built. And the pinned versions: one
 * file (scripts/toolchain/versions.env) that the scripts read and everything else agrees with.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const SCRIPT = path.resolve(__dirname, "pulumi-toolchain.sh");
const VERSIONS = path.join(ROOT, "scripts", "toolchain", "versions.env");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
/** The value versions.env gives NAME, as bash reads it (the file is sourced, not parsed). */
const pin = (name: string) =>
  spawnSync("bash", ["-c", `. "$1" && printf %s "$${name}"`, "_", VERSIONS], {
    encoding: "utf8",
  }).stdout;
const PULUMI_VERSION = pin("PULUMI_VERSION");
const K8S_VERSION = pin("K8S_VERSION");
const K8S_MODULE_VERSION = pin("K8S_MODULE_VERSION");

function executable(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

describe("pulumi-toolchain.sh finds an installed toolchain", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-toolchain-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const home = path.join(dir, "pulumi-home");
  const cliDir = path.join(home, "versions", PULUMI_VERSION, "bin");
  executable(path.join(cliDir, "pulumi"), `[ "$1" = version ] && echo v${PULUMI_VERSION}`);
  executable(path.join(cliDir, "pulumi-language-nodejs"), "exit 0");
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: dir,
    PULUMI_HOME: home,
    PULUMI_TOOLCHAIN_CACHE: path.join(dir, "cache"),
  };
  const check = () => spawnSync("bash", [SCRIPT, "--check"], { encoding: "utf8", env });
  const print = () => spawnSync("bash", [SCRIPT], { encoding: "utf8", env });

  it("is not ready without the Kubernetes provider", () => {
    expect(check().status).toBe(1);
  });

  it("accepts the provider that `pulumi plugin install` put in PULUMI_HOME/plugins", () => {
    const plugin = path.join(home, "plugins", `resource-kubernetes-v${K8S_VERSION}`);
    executable(path.join(plugin, "pulumi-resource-kubernetes"), "exit 0");
    const c = check();
    expect(c.status, c.stderr).toBe(0);
    const p = print();
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(new RegExp(`^export PATH=.*${cliDir.replace(/[.]/g, "\\.")}`, "m"));
    expect(p.stderr).toContain(`installed plugin (${plugin})`);
  });

  it("leaves an installed plugin in place when asked to link plugins", () => {
    const plugin = path.join(home, "plugins", `resource-kubernetes-v${K8S_VERSION}`);
    const r = spawnSync("bash", [SCRIPT], {
      encoding: "utf8",
      env: { ...env, PULUMI_TOOLCHAIN_LINK_PLUGINS: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
    const binary = path.join(plugin, "pulumi-resource-kubernetes");
    expect(fs.lstatSync(binary).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(binary, "utf8")).toContain("exit 0");
  });
});

describe("the pinned versions live in scripts/toolchain/versions.env", () => {
  it("gives every pin a value", () => {
    expect(PULUMI_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(K8S_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(K8S_MODULE_VERSION).toMatch(/^v4\.\d+\.\d+-\d{14}-[0-9a-f]{12}$/);
    expect(pin("MIN_GO_VERSION")).toMatch(/^1\.\d+$/);
  });

  it("the scripts and the language host read it, and repeat no version", () => {
    for (const file of [
      "scripts/pulumi-toolchain.sh",
      "scripts/up-dev.sh",
      "scripts/preview.sh",
      "scripts/toolchain/language-host/main.go",
    ]) {
      const text = read(file);
      for (const version of [PULUMI_VERSION, K8S_VERSION, K8S_MODULE_VERSION]) {
        expect(text, `${file} repeats ${version}`).not.toContain(version);
      }
    }
    expect(read("scripts/pulumi-toolchain.sh")).toContain('. "$TC_DIR/versions.env"');
    expect(read("scripts/pulumi-toolchain.sh")).toContain(
      '"-s -w -X main.version=$PULUMI_VERSION"',
    );
    expect(read("scripts/toolchain/language-host/main.go")).toMatch(/^var version string$/m);
  });

  it("the npm SDKs are pinned to the same versions, in the program and the policy pack", () => {
    for (const file of ["package.json", "policy/package.json"]) {
      const pkg = JSON.parse(read(file)) as { dependencies: Record<string, string> };
      expect(pkg.dependencies["@pulumi/pulumi"], file).toBe(PULUMI_VERSION);
      expect(pkg.dependencies["@pulumi/kubernetes"], file).toBe(K8S_VERSION);
    }
  });

  it("the wrapper modules require the same versions", () => {
    const requires = (file: string, module: string) =>
      new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, "\\$&")} (\\S+)`, "m").exec(
        read(file),
      )?.[1];
    expect(requires("scripts/toolchain/cli/go.mod", "github.com/pulumi/pulumi/pkg/v3")).toBe(
      `v${PULUMI_VERSION}`,
    );
    expect(requires("scripts/toolchain/cli/go.mod", "github.com/pulumi/pulumi/sdk/v3")).toBe(
      `v${PULUMI_VERSION}`,
    );
    expect(
      requires("scripts/toolchain/language-host/go.mod", "github.com/pulumi/pulumi/sdk/v3"),
    ).toBe(`v${PULUMI_VERSION}`);
    expect(
      requires(
        "scripts/toolchain/kubernetes/go.mod",
        "github.com/pulumi/pulumi-kubernetes/provider/v4",
      ),
    ).toBe(K8S_MODULE_VERSION);
  });

  it("the script stops, naming the file to fix, when a go.mod and versions.env disagree", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-pins-"));
    try {
      const repo = path.join(dir, "repo");
      fs.cpSync(path.join(ROOT, "scripts", "toolchain"), path.join(repo, "scripts", "toolchain"), {
        recursive: true,
        filter: (src) => !src.endsWith(".go"),
      });
      fs.copyFileSync(SCRIPT, path.join(repo, "scripts", "pulumi-toolchain.sh"));
      const env = {
        PATH: "/usr/bin:/bin",
        HOME: dir,
        PULUMI_TOOLCHAIN_CACHE: path.join(dir, "cache"),
      };
      const versions = path.join(repo, "scripts", "toolchain", "versions.env");
      fs.writeFileSync(
        versions,
        fs.readFileSync(versions, "utf8").replace(`"${PULUMI_VERSION}"`, '"3.1.0"'),
      );
      const r = spawnSync("bash", [path.join(repo, "scripts", "pulumi-toolchain.sh"), "--check"], {
        encoding: "utf8",
        env,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        `${repo}/scripts/toolchain/cli/go.mod does not require 'github.com/pulumi/pulumi/pkg/v3 v3.1.0': update ${repo}/scripts/toolchain/versions.env and the go.mod together`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the toolchain's README names the versions it was verified at", () => {
    const readme = read("scripts/toolchain/README.md");
    expect(readme).toContain(`| \`pulumi\` CLI | v${PULUMI_VERSION} |`);
    expect(readme).toContain(`| \`pulumi-resource-kubernetes\` | v${K8S_VERSION} |`);
    expect(readme).toContain(`provider/v4@${K8S_MODULE_VERSION}`);
  });
});
