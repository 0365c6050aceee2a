/**
 * staging's shape on a live API server (issue 9, test 5): the same lifecycle as production's with
 * staging's policy config, in the rolling (single-colour) shape. Read back with kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolchain } from "../engine/harness";
import {
  CLUSTER_TIMEOUT_MS,
  ClusterStackFixture,
  EventLog,
  getItems,
  kubectlTry,
  selects,
  skipReason,
} from "./harness";

const NS = "monkeytown-staging";
const reason = skipReason ?? (toolchain.ready ? undefined : toolchain.reason);

describe.skipIf(reason !== undefined)("staging's shape on a live cluster", () => {
  const fx = new ClusterStackFixture("staging");

  beforeAll(async () => {
    // A stack left on the cluster (say by \`npm run cluster:deploy -- staging\`) would be adopted
    // half-way and refused by the preflight: say so instead.
    if (kubectlTry(["get", "namespace", NS]).status === 0) {
      throw new Error(
        `the cluster already has namespace ${NS}: remove it first (\`npm run cluster:deploy -- staging unprotect\`, then \`destroy\`)`,
      );
    }
    await fx.open();
  }, CLUSTER_TIMEOUT_MS);
  afterAll(async () => {
    if (fx.stack && kubectlTry(["get", "namespace", NS]).status === 0) {
      await fx.stack.destroy().catch(() => undefined);
    }
    fx.remove();
  }, CLUSTER_TIMEOUT_MS);

  it("5. up passes staging's mandatory policies on live outputs; every Deployment rolls out", async () => {
    const log = new EventLog();
    await fx.stack.up({ ...fx.policy(), onEvent: log.onEvent });
    expect(
      log.events
        .filter((e) => e.policyEvent?.enforcementLevel === "mandatory")
        .map((e) => e.policyEvent),
    ).toEqual([]);
    const deployments = getItems("deployments", NS);
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(["api", "web"]);
    for (const d of deployments) {
      expect(d.status?.readyReplicas, d.metadata.name).toBe(d.spec.replicas);
      expect(d.status?.updatedReplicas, d.metadata.name).toBe(d.spec.replicas);
    }
  });

  it("5. a second up and a refresh report no changes", async () => {
    const again = await fx.stack.up({ ...fx.policy(), expectNoChanges: true });
    const changed = (s?: Record<string, number>) =>
      Object.entries(s ?? {}).filter(([op]) => op !== "same");
    expect(changed(again.summary.resourceChanges)).toEqual([]);
    expect(changed((await fx.stack.refresh()).summary.resourceChanges)).toEqual([]);
  });

  it("5. in the rolling shape the ServiceMonitor selects the API's Service", () => {
    const services = getItems("services", NS);
    const monitors = getItems("servicemonitors.monitoring.coreos.com", NS);
    expect(monitors.length).toBeGreaterThan(0);
    for (const m of monitors) {
      expect(
        services
          .filter((s) => selects(m.spec.selector, s.metadata.labels))
          .map((s) => s.metadata.name),
      ).toContain("api");
    }
  });

  it("5. destroy (staging is not protected) leaves nothing of the stack", async () => {
    await fx.stack.destroy();
    const ns = kubectlTry(["get", "namespace", NS]);
    expect(ns.status).not.toBe(0);
    expect(ns.stderr).toMatch(/NotFound/);
  });
});
