/**
 * How scripts/pulumi-toolchain.sh finds a toolchain it did not build: an official CLI in
 * PULUMI_HOME (where the npm `pulumi` package and pulumi/actions put it) with its language host beside
 * it, and the Kubernetes provider installed by `pulumi plugin install` (GitHub's CI). Stand-in
 * executables answer `version` like the real ones; nothing is built.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = path.resolve(__dirname, "pulumi-toolchain.sh");
const pin = (name: string) =>
  new RegExp(`^${name}="([0-9.]+)"`, "m").exec(fs.readFileSync(SCRIPT, "utf8"))![1];
const PULUMI_VERSION = pin("PULUMI_VERSION");
const K8S_VERSION = pin("K8S_VERSION");

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
