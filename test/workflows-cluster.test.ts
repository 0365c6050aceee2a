/**
 * GitHub's `ci.yml` runs the live-cluster tests against kind, prepared the way the local cluster is
 * (cluster/attach.sh). What the job must do, read from the workflow itself (actionlint and the
 * pinning checks in test/workflows/ cover its syntax and actions).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT, job as workflowJob } from "./delivery";

const job = workflowJob("ci.yml", "cluster");
const steps = job.steps ?? [];
const runs = steps.map((s) => s.run ?? "").join("\n");
const indexOf = (re: RegExp) => steps.findIndex((s) => re.test(s.run ?? ""));

describe("ci.yml: the cluster job", () => {
  it("reads the repository only", () => {
    expect(job.permissions).toEqual({ contents: "read" });
  });

  it("installs the Kubernetes provider at the toolchain's pin, and the toolchain check accepts it", () => {
    expect(runs).toMatch(/pulumi plugin install resource kubernetes "v\$version"/);
    expect(runs).toContain("K8S_VERSION=");
    expect(indexOf(/pulumi-toolchain\.sh --check/)).toBeGreaterThan(-1);
  });

  it("reads that pin from scripts/toolchain/versions.env, where the toolchain script takes it", () => {
    const install = steps[indexOf(/pulumi plugin install resource kubernetes/)].run!;
    const read = install.split("\n").find((l) => l.startsWith("version="))!;
    const got = execFileSync("bash", ["-c", `${read}\nprintf %s "$version"`], {
      cwd: ROOT,
      encoding: "utf8",
    });
    const pinned = execFileSync(
      "bash",
      ["-c", '. scripts/toolchain/versions.env && printf %s "$K8S_VERSION"'],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    expect(got).toMatch(/^\d+\.\d+\.\d+$/);
    expect(got).toBe(pinned);
  });

  it("starts kind from its Go module at a pinned version, then prepares it like the local cluster", () => {
    expect(runs).toMatch(/go install sigs\.k8s\.io\/kind@v\d+\.\d+\.\d+/);
    const kind = indexOf(/kind" create cluster/);
    const attach = indexOf(/bash cluster\/attach\.sh/);
    const tests = indexOf(/npm run test:cluster/);
    expect(kind).toBeGreaterThan(-1);
    expect(attach).toBeGreaterThan(kind);
    expect(tests).toBeGreaterThan(attach);
    expect(steps[tests].run).toContain('MONKEYTOWN_CLUSTER_KUBECONFIG="$HOME/.kube/config"');
  });

  it("stops what it started even when the tests fail", () => {
    const down = steps.find((s) => /cluster\/down\.sh/.test(s.run ?? ""));
    expect(down?.if).toBe("always()");
    expect(fs.statSync(path.join(ROOT, "cluster", "attach.sh")).mode & 0o111).not.toBe(0);
  });
});
