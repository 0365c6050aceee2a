/**
 * staging and production on the real engine (issue 4, integration test 8): `pulumi preview` with
 * the policy pack and the stack's policy config, where the stack can be previewed here. They deploy
 * to the cluster of a kubeconfig and use the docker-build, cloudflare and github providers besides
 * kubernetes; where any of that is missing the test is skipped and says exactly what is missing.
 *
 * Inputs: KUBECONFIG (default ~/.kube/config), PULUMI_CONFIG_PASSPHRASE (the stacks' passphrase),
 * PULUMI_BACKEND_URL (the stacks' state; default a temporary backend), providers on PATH or in
 * PULUMI_HOME/plugins (default ~/.pulumi/plugins).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import {
  ENGINE_TIMEOUT_MS,
  EventLog,
  Sandbox,
  openStack,
  originalKubeconfig,
  toolchain,
  policyArgsFor,
} from "./harness";

const CLUSTER_PROVIDERS = ["kubernetes", "docker-build", "cloudflare", "github"];

function onPath(bin: string, pathValue: string): boolean {
  return pathValue.split(path.delimiter).some((d) => d !== "" && fs.existsSync(path.join(d, bin)));
}

/** Providers neither on the toolchain's PATH nor installed as plugins. */
function missingProviders(): string[] {
  const pathValue = toolchain.ready ? toolchain.path : (process.env.PATH ?? "");
  const pluginsDir = path.join(
    process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"),
    "plugins",
  );
  const installed = fs.existsSync(pluginsDir) ? fs.readdirSync(pluginsDir) : [];
  return CLUSTER_PROVIDERS.filter(
    (p) =>
      !onPath(`pulumi-resource-${p}`, pathValue) &&
      !installed.some((d) => d.startsWith(`resource-${p}-v`)),
  );
}

/** Why the current kube context cannot be reached, or undefined when it answers. */
function kubeContextProblem(): string | undefined {
  const file = (originalKubeconfig() ?? path.join(os.homedir(), ".kube", "config")).split(
    path.delimiter,
  )[0];
  if (!file || !fs.existsSync(file) || fs.statSync(file).size === 0) {
    return `no kubeconfig (${originalKubeconfig() ? `KUBECONFIG=${originalKubeconfig()} is empty or absent` : "KUBECONFIG unset and ~/.kube/config absent"})`;
  }
  type KubeConfig = {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string } }[];
    clusters?: { name: string; cluster: { server: string } }[];
  };
  const kc = parse(fs.readFileSync(file, "utf8")) as KubeConfig | null;
  const ctx = kc?.contexts?.find((c) => c.name === kc["current-context"]);
  const server = kc?.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster.server;
  if (!server) return `${file} has no current context with a cluster server`;
  // Any HTTP answer (even 401/403) from the API server means it is reachable.
  const probe = spawnSync(
    "curl",
    ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", `${server}/version`],
    {
      encoding: "utf8",
    },
  );
  if (probe.error) return `cannot probe ${server} (curl: ${probe.error.message})`;
  return probe.stdout.trim() === "000"
    ? `the cluster of context "${kc?.["current-context"]}" (${server}) does not answer`
    : undefined;
}

function skipReason(): string | undefined {
  if (!toolchain.ready) return toolchain.reason;
  const reasons: string[] = [];
  const missing = missingProviders();
  if (missing.length > 0) {
    reasons.push(
      `provider plugins not installed (and downloads are off): ${missing.join(", ")}; cloudflare and github cannot be built from Go modules here`,
    );
  }
  const kube = kubeContextProblem();
  if (kube) reasons.push(kube);
  if (!process.env.PULUMI_CONFIG_PASSPHRASE)
    reasons.push("PULUMI_CONFIG_PASSPHRASE (the stacks' passphrase) is not set");
  return reasons.length > 0 ? reasons.join("; ") : undefined;
}

const reason = skipReason();
if (reason)
  console.warn(`[engine tests] cluster-stacks: staging and production previews skipped: ${reason}`);

describe("staging and production previews with the policy pack", () => {
  const sandboxes: Sandbox[] = [];
  afterAll(() => sandboxes.forEach((s) => s.remove()));

  for (const stackName of ["staging", "production"]) {
    it.skipIf(reason !== undefined)(
      `8. ${stackName}: preview passes the policy pack's mandatory rules`,
      async () => {
        const sandbox = new Sandbox(stackName);
        sandboxes.push(sandbox);
        const workDir = sandbox.copyRepo();
        const env: Record<string, string> = {
          PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE!,
          KUBECONFIG: originalKubeconfig() ?? path.join(os.homedir(), ".kube", "config"),
          ...(process.env.PULUMI_BACKEND_URL
            ? { PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL }
            : {}),
          ...(process.env.PULUMI_HOME ? { PULUMI_HOME: process.env.PULUMI_HOME } : {}),
        };
        const stack = await openStack(sandbox, workDir, stackName, env);
        const log = new EventLog();
        const result = await stack.preview({
          ...policyArgsFor(workDir, stackName),
          onEvent: log.onEvent,
        });
        const mandatory = log.events.flatMap((e) =>
          e.policyEvent?.enforcementLevel === "mandatory" ? [e.policyEvent] : [],
        );
        expect(mandatory).toEqual([]);
        expect(result.changeSummary).toBeDefined();
      },
      ENGINE_TIMEOUT_MS,
    );
  }
});
