/**
 * Global setup of the `cluster` vitest project: finds a running local cluster, or starts one when
 * its binaries are built (and stops it afterwards), and tells the tests which KUBECONFIG to use or
 * why they are skipped. `.ci/run` starts (and if needed builds) the cluster before the tests, so
 * they never skip there.
 *
 * MONKEYTOWN_CLUSTER_KUBECONFIG points the tests at another cluster (kind, minikube, ...): it must
 * have the CRDs and ClusterIssuers of docs/cluster-prerequisites.md and nodes that run the pods.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { TestProject } from "vitest/node";
import { REPO_ROOT } from "../../cluster/workspace";
import { localKubeconfig } from "../../cluster/local";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cluster the tests deploy to, or why they are skipped. */
    cluster: { kubeconfig: string; kubectl: string } | { skip: string };
  }
}

function sh(script: string, args: string[] = []): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync("bash", [path.join(REPO_ROOT, script), ...args], {
    encoding: "utf8",
    timeout: 600_000,
    env: process.env,
  });
  return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function answers(kubeconfig: string, kubectl: string): boolean {
  const r = spawnSync(kubectl, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  return r.status === 0;
}

let started = false;

export default function setup(project: TestProject): () => void {
  const provide = (v: ProvidedContextValue) => project.provide("cluster", v);
  type ProvidedContextValue = { kubeconfig: string; kubectl: string } | { skip: string };

  if (!sh("scripts/pulumi-toolchain.sh", ["--check"]).ok) {
    provide({ skip: "the Pulumi toolchain is not built (`npm run toolchain`)" });
    return () => {};
  }
  const external = process.env.MONKEYTOWN_CLUSTER_KUBECONFIG;
  if (external) {
    const kubectl = spawnSync("bash", ["-c", "command -v kubectl"], {
      encoding: "utf8",
    }).stdout.trim();
    if (!kubectl || !answers(external, kubectl)) {
      provide({
        skip: `MONKEYTOWN_CLUSTER_KUBECONFIG=${external}: the cluster does not answer (or kubectl is missing)`,
      });
    } else {
      provide({ kubeconfig: external, kubectl });
    }
    return () => {};
  }

  const built = sh("cluster/build.sh", ["--check"]).ok;
  if (!built) {
    provide({
      skip: "the local cluster's binaries are not built: `npm run cluster:up` builds them (about 10 min cold) and starts it",
    });
    return () => {};
  }
  const bin = /^BIN=(.*)$/m.exec(sh("cluster/build.sh").stdout)?.[1];
  const kubectl = bin ? path.join(bin, "kubectl") : "kubectl";
  const kubeconfig = localKubeconfig();
  if (!(fs.existsSync(kubeconfig) && answers(kubeconfig, kubectl))) {
    const up = sh("cluster/up.sh", ["--print-env"]);
    if (!up.ok) {
      provide({
        skip: `the local cluster could not be started: ${up.stderr.trim().split("\n").slice(-3).join(" / ")}`,
      });
      return () => {};
    }
    started = true;
  }
  provide({ kubeconfig, kubectl });
  return () => {
    if (started) sh("cluster/down.sh");
  };
}
