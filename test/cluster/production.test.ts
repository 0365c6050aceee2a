/**
 * production's shape on a live API server (issue 9): the real stack file, components and policy
 * config (mandatory rules enforced on live outputs), with only cluster/overrides/production.yaml
 * changed. What is asserted is read back from the API server with kubectl, not from Pulumi's state.
 * The tests run in order on one stack: up, read-back, blue-green, routine change, drift, secrets,
 * protection and destroy.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolchain } from "../engine/harness";
import {
  CLUSTER_TIMEOUT_MS,
  ClusterStackFixture,
  EventLog,
  getItems,
  kubectl,
  kubectlTry,
  selects,
  skipReason,
  type KubeObject,
} from "./harness";

const NS = "monkeytown";
/** A recognisable JWT secret: it must reach the app Secret and nowhere else. */
const JWT_SENTINEL = "jwt-CLUSTER-SENTINEL-4f1d9a0c7e3b5a2d6c8e0f1a3b5d7c9e";

/** What staging a release on the idle colour changes, and what the switch changes (engine steps). */
const STAGE_CHANGES = ["update kubernetes:apps/v1:Deployment api-green"];
const SWITCH_CHANGES = [
  // replicas: the newly active colour's become the HPA's, the old active colour goes to standby
  "update kubernetes:apps/v1:Deployment api-blue",
  "update kubernetes:apps/v1:Deployment api-green",
  "update kubernetes:autoscaling/v2:HorizontalPodAutoscaler api-hpa",
  "update kubernetes:core/v1:Service api-preview",
  "update kubernetes:core/v1:Service api-service",
];

/** The engine's secret envelope: `{ <sig>: <secret sig>, value: ... }`. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Events with every secret envelope's value replaced by "[secret]". */
function withoutSecretValues(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSecretValues);
  if (typeof v === "object" && v !== null) {
    if (SECRET_SIG in v) return "[secret]";
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecretValues(x)]));
  }
  return v;
}

const reason = skipReason ?? (toolchain.ready ? undefined : toolchain.reason);

function mandatory(log: EventLog): unknown[] {
  return log.events.flatMap((e) =>
    e.policyEvent?.enforcementLevel === "mandatory" ? [e.policyEvent] : [],
  );
}

/** Only `same` steps in an engine summary. */
function changedOps(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([op]) => op !== "same"));
}

function rolledOut(d: KubeObject): boolean {
  const want = d.spec.replicas ?? 1;
  return (
    (d.status?.observedGeneration ?? 0) >= (d.metadata as { generation?: number }).generation! &&
    d.status?.updatedReplicas === want &&
    d.status?.readyReplicas === want &&
    d.status?.availableReplicas === want
  );
}

describe.skipIf(reason !== undefined)("production's shape on a live cluster", () => {
  const fx = new ClusterStackFixture("production");

  beforeAll(async () => {
    // A stack left on the cluster (say by \`npm run cluster:deploy -- production\`) would be adopted
    // half-way and refused by the preflight: say so instead.
    if (kubectlTry(["get", "namespace", NS]).status === 0) {
      throw new Error(
        `the cluster already has namespace ${NS}: remove it first (\`npm run cluster:deploy -- production unprotect\`, then \`destroy\`)`,
      );
    }
    await fx.open({ "monkeytown:jwtSecret": JWT_SENTINEL });
  }, CLUSTER_TIMEOUT_MS);
  afterAll(async () => {
    // Leave nothing behind even when a test failed half-way.
    if (fx.stack && kubectlTry(["get", "namespace", NS]).status === 0) {
      await fx.cli(["state", "unprotect", "--all", "--yes"]);
      await fx.stack.destroy().catch(() => undefined);
    }
    fx.remove();
  }, CLUSTER_TIMEOUT_MS);

  it("1. up passes production's mandatory policies on live outputs, and every Deployment rolls out", async () => {
    const log = new EventLog();
    const result = await fx.stack.up({ ...fx.policy(), onEvent: log.onEvent });
    expect(mandatory(log)).toEqual([]);
    expect(result.summary.result).toBe("succeeded");
    const deployments = getItems("deployments", NS);
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      "api-blue",
      "api-green",
      "web",
    ]);
    for (const d of deployments) expect(rolledOut(d), d.metadata.name).toBe(true);
  });

  it("1. a second up and a refresh report no changes", async () => {
    // The deploy flow's record step: each blue-green colour stays at what runs.
    expect(Object.keys(await fx.pin()).sort()).toEqual([
      "monkeytown:api.activeColor",
      "monkeytown:api.blueImage",
      "monkeytown:api.greenImage",
    ]);
    const again = await fx.stack.up({ ...fx.policy(), expectNoChanges: true });
    expect(changedOps(again.summary.resourceChanges)).toEqual({});
    const refresh = await fx.stack.refresh();
    expect(changedOps(refresh.summary.resourceChanges)).toEqual({});
  });

  it("2. every Service has ready endpoints", () => {
    const slices = getItems("endpointslices", NS);
    for (const svc of getItems("services", NS)) {
      const ready = slices
        .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name)
        .flatMap(
          (s) =>
            (s as unknown as { endpoints?: { conditions?: { ready?: boolean } }[] }).endpoints ??
            [],
        )
        .filter((e) => e.conditions?.ready === true);
      expect(ready.length, `Service ${svc.metadata.name}`).toBeGreaterThan(0);
    }
  });

  it("2. the ServiceMonitor selects the API's Service and a port it has", () => {
    const monitors = getItems("servicemonitors.monitoring.coreos.com", NS);
    expect(monitors.length).toBeGreaterThan(0);
    const services = getItems("services", NS);
    for (const m of monitors) {
      const matched = services.filter((s) => selects(m.spec.selector, s.metadata.labels));
      expect(
        matched.map((s) => s.metadata.name),
        m.metadata.name,
      ).toContain("api");
      for (const ep of m.spec.endpoints as { port?: string }[]) {
        for (const s of matched) {
          expect((s.spec.ports as { name?: string }[]).map((p) => p.name)).toContain(ep.port);
        }
      }
    }
  });

  it("2. every PodDisruptionBudget and NetworkPolicy selects pods", () => {
    const pods = getItems("pods", NS);
    const pdbs = getItems("poddisruptionbudgets", NS);
    expect(pdbs.length).toBeGreaterThan(0);
    for (const pdb of pdbs) {
      expect(
        pods.filter((p) => selects(pdb.spec.selector, p.metadata.labels)).length,
      ).toBeGreaterThan(0);
      // The disruption controller counted them too.
      expect(pdb.status?.expectedPods ?? 0, pdb.metadata.name).toBeGreaterThan(0);
    }
    const policies = getItems("networkpolicies", NS);
    expect(policies.length).toBeGreaterThan(0);
    for (const np of policies) {
      expect(
        pods.filter((p) => selects(np.spec.podSelector, p.metadata.labels)).length,
        np.metadata.name,
      ).toBeGreaterThan(0);
    }
  });

  it("2. the HPA targets the active API Deployment, and nothing else sets its replicas", () => {
    const hpas = getItems("horizontalpodautoscalers", NS);
    expect(hpas.map((h) => h.spec.scaleTargetRef)).toEqual([
      { apiVersion: "apps/v1", kind: "Deployment", name: "api-blue" },
    ]);
    const active = JSON.parse(
      kubectl(["get", "deployment", "api-blue", "-n", NS, "-o", "json", "--show-managed-fields"]),
    ) as {
      metadata: {
        managedFields: { manager: string; fieldsV1?: { "f:spec"?: Record<string, unknown> } }[];
      };
    };
    const replicaOwners = active.metadata.managedFields
      .filter((f) => f.fieldsV1?.["f:spec"] && "f:replicas" in f.fieldsV1["f:spec"])
      .map((f) => f.manager);
    expect(replicaOwners.filter((m) => m.startsWith("pulumi"))).toEqual([]);
  });

  it("2. the monitoring custom resources were accepted by their CRDs' schemas (and an invalid one is not)", () => {
    for (const kind of ["prometheusrules", "servicemonitors", "alertmanagerconfigs"]) {
      expect(getItems(`${kind}.monitoring.coreos.com`, NS).length, kind).toBeGreaterThan(0);
    }
    const bad = kubectlTry(
      ["apply", "--dry-run=server", "-f", "-"],
      JSON.stringify({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "invalid", namespace: NS },
        spec: { selector: {}, endpoints: [{ port: "http", interval: "every minute" }] },
      }),
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/interval/);
  });

  it("2. the namespace's restricted Pod Security Standard is in force", () => {
    const ns = JSON.parse(kubectl(["get", "namespace", NS, "-o", "json"])) as KubeObject;
    expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const rejected = kubectlTry(
      ["apply", "--dry-run=server", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "root-pod", namespace: NS },
        spec: {
          containers: [{ name: "c", image: "busybox:1.36", securityContext: { privileged: true } }],
        },
      }),
    );
    expect(rejected.status).not.toBe(0);
    expect(rejected.stderr).toMatch(/violates PodSecurity "restricted/);
  });

  it("3. blue-green: a release reaches the idle colour only, is served by api-preview, then traffic switches and back", async () => {
    const endpointsOf = (svc: string) =>
      getItems("endpointslices", NS)
        .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === svc)
        .flatMap(
          (s) =>
            (s as unknown as { endpoints?: { targetRef?: { name: string } }[] }).endpoints ?? [],
        )
        .map((e) => e.targetRef?.name ?? "");
    const imageOf = (deployment: string) =>
      (JSON.parse(kubectl(["get", "deployment", deployment, "-n", NS, "-o", "json"])) as KubeObject)
        .spec.template.spec.containers[0].image as string;
    const servingImage = imageOf("api-blue");
    const release = `ghcr.io/monkeytown/monkeytown-api@sha256:${"cd".repeat(32)}`;

    // Stage: the release goes to the idle colour (green) only.
    await fx.pin();
    await fx.stack.setConfig("monkeytown:api.greenImage", { value: release }, true);
    const stage = new EventLog();
    await fx.stack.up({ ...fx.policy(), onEvent: stage.onEvent });
    expect(mandatory(stage)).toEqual([]);
    expect(stage.changes()).toEqual(STAGE_CHANGES);
    expect(imageOf("api-blue")).toBe(servingImage);
    expect(imageOf("api-green")).toBe(release);
    // The smoke test's target: api-preview sends to green, api still to blue.
    await expect
      .poll(
        () =>
          endpointsOf("api-preview").length > 0 &&
          endpointsOf("api-preview").every((n) => n.startsWith("api-green-")),
      )
      .toBe(true);
    expect(endpointsOf("api").every((n) => n.startsWith("api-blue-"))).toBe(true);

    // Switch: traffic to green; blue keeps the previous release as the instant rollback.
    await fx.pin();
    await fx.stack.setConfig("monkeytown:api.activeColor", { value: "green" }, true);
    const log = new EventLog();
    const result = await fx.stack.up({ ...fx.policy(), onEvent: log.onEvent });
    expect(mandatory(log)).toEqual([]);
    expect(log.changes()).toEqual(SWITCH_CHANGES);
    expect(changedOps(result.summary.resourceChanges)).not.toHaveProperty("replace");
    expect(changedOps(result.summary.resourceChanges)).not.toHaveProperty("delete");
    await expect
      .poll(
        () =>
          endpointsOf("api").length > 0 &&
          endpointsOf("api").every((n) => n.startsWith("api-green-")),
      )
      .toBe(true);
    expect(imageOf("api-blue")).toBe(servingImage);
    expect((await fx.stack.outputs()).apiActiveColor?.value).toBe("green");

    // Switch back: the rollback.
    await fx.pin();
    await fx.stack.setConfig("monkeytown:api.activeColor", { value: "blue" }, true);
    await fx.stack.up({ ...fx.policy() });
    await expect
      .poll(
        () =>
          endpointsOf("api").length > 0 &&
          endpointsOf("api").every((n) => n.startsWith("api-blue-")),
      )
      .toBe(true);
    await fx.pin();
    const again = await fx.stack.preview({ ...fx.policy() });
    expect(changedOps(again.changeSummary)).toEqual({});
  });

  it("4. a routine change (web replicas, an image reference) updates exactly the web Deployment, in place", async () => {
    const web = JSON.parse((await fx.stack.getConfig("monkeytown:web")).value) as Record<
      string,
      unknown
    >;
    await fx.pin();
    await fx.stack.setConfig("monkeytown:web.replicas", { value: "3" }, true);
    const newImage = `ghcr.io/monkeytown/monkeytown-web@sha256:${"ab".repeat(32)}`;
    await fx.stack.setConfig("monkeytown:webImage", { value: newImage });
    const log = new EventLog();
    await fx.stack.up({ ...fx.policy(), onEvent: log.onEvent });
    expect(log.changes()).toEqual(["update kubernetes:apps/v1:Deployment web-deployment"]);
    await expect
      .poll(() => {
        const d = JSON.parse(
          kubectl(["get", "deployment", "web", "-n", NS, "-o", "json"]),
        ) as KubeObject;
        return [
          d.spec.template.spec.containers[0].image,
          rolledOut(d) ? d.status.readyReplicas : -1,
        ];
      })
      .toEqual([newImage, 3]);
    await fx.stack.setConfig("monkeytown:web.replicas", { value: String(web.replicas) }, true);
    expect(web.replicas).toBe(2);
  });

  it("7. drift behind Pulumi's back is detected by the drift workflow's command and repaired by up", async () => {
    kubectl(["scale", "deployment", "web", "-n", NS, "--replicas", "4"]);
    kubectl([
      "label",
      "service",
      "web",
      "-n",
      NS,
      "app.kubernetes.io/part-of=somebody-else",
      "--overwrite",
    ]);
    // .github/workflows/drift.yml runs exactly this.
    const drift = await fx.cli([
      "preview",
      "--refresh",
      "--expect-no-changes",
      "--non-interactive",
    ]);
    expect(drift.status).not.toBe(0);
    expect(drift.stdout + drift.stderr).toMatch(/web/);
    await fx.pin();
    await fx.stack.up({ ...fx.policy(), refresh: true });
    const svc = JSON.parse(
      kubectl(["get", "service", "web", "-n", NS, "-o", "json"]),
    ) as KubeObject;
    expect(svc.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("monkeytown");
    await expect
      .poll(
        () =>
          (JSON.parse(kubectl(["get", "deployment", "web", "-n", NS, "-o", "json"])) as KubeObject)
            .spec.replicas,
      )
      .toBe(2);
    const clean = await fx.cli([
      "preview",
      "--refresh",
      "--expect-no-changes",
      "--non-interactive",
    ]);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
  });

  it("8. the secret reaches the app Secret and appears nowhere else in plaintext", async () => {
    const secret = JSON.parse(
      kubectl(["get", "secret", "monkeytown-app", "-n", NS, "-o", "json"]),
    ) as {
      data: Record<string, string>;
    };
    expect(Buffer.from(secret.data.JWT_SECRET, "base64").toString()).toBe(JWT_SENTINEL);
    const encoded = Buffer.from(JWT_SENTINEL).toString("base64");

    // The CLI's export, as stored (the Automation API's exportStack decrypts with --show-secrets).
    const exported = await fx.cli(["stack", "export"]);
    expect(exported.status, exported.stderr).toBe(0);
    const state = exported.stdout;
    expect(state).toContain('"ciphertext"');
    expect(state).not.toContain(JWT_SENTINEL);
    expect(state).not.toContain(encoded);

    const out: string[] = [];
    const log = new EventLog();
    await fx.pin();
    await fx.stack.up({ ...fx.policy(), onOutput: (s) => out.push(s), onEvent: log.onEvent });
    // The output a person or a CI log sees: nowhere.
    const text = out.join("");
    expect(text).not.toContain(JWT_SENTINEL);
    expect(text).not.toContain(encoded);
    // The engine's event stream (what --event-log writes) carries it only inside the engine's
    // secret envelope, marked as secret, and in the Node.js SDK's own debug diagnostics, which print
    // each RegisterResource response whole (found here; docs/cluster.md: event logs are secret
    // material). Everything else is clean.
    const sdkDebug = (e: EngineEvent) =>
      (e.diagnosticEvent?.severity as string | undefined) === "debug" &&
      /^RegisterResource(Outputs)? RPC finished/.test(e.diagnosticEvent?.message ?? "");
    const events = JSON.stringify(withoutSecretValues(log.events.filter((e) => !sdkDebug(e))));
    expect(events.length).toBeGreaterThan(1000);
    expect(events).not.toContain(JWT_SENTINEL);
    expect(events).not.toContain(encoded);

    const kinds = kubectl(["api-resources", "--namespaced", "--verbs=list", "-o", "name"])
      .trim()
      .split("\n");
    const everything = kinds
      .filter((k) => k !== "events" && k !== "events.events.k8s.io")
      .flatMap((k) => getItems(k, NS))
      .filter((o) => !(o.kind === "Secret" && o.metadata.name === "monkeytown-app"));
    const dump = JSON.stringify(everything);
    expect(dump.length).toBeGreaterThan(1000);
    expect(dump).not.toContain(JWT_SENTINEL);
    expect(dump).not.toContain(encoded);
  });

  it("6. destroy refuses while resources are protected; after unprotecting it leaves nothing", async () => {
    const refused = await fx.stack.destroy().then(
      () => "destroyed",
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/protected/);
    expect(kubectlTry(["get", "namespace", NS]).status).toBe(0);

    await fx.pin();
    await fx.stack.setConfig("monkeytown:kubernetes.protect", { value: "false" }, true);
    await fx.stack.up({ ...fx.policy() });
    await fx.stack.destroy();
    const ns = kubectlTry(["get", "namespace", NS, "-o", "json"]);
    expect(ns.status).not.toBe(0);
    expect(ns.stderr).toMatch(/NotFound/);
    const leftovers = kubectl([
      "get",
      "all,configmaps,secrets,ingresses,networkpolicies,poddisruptionbudgets",
      "-A",
      "-l",
      "app.kubernetes.io/part-of=monkeytown",
      "-o",
      "name",
    ]).trim();
    expect(leftovers).toBe("");
  });
});
