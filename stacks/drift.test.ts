/**
 * Every Deployment of every stack takes back the fields a hand edit took (`pulumi.com/patchForce`):
 * without it, `up` after a `kubectl scale` fails with a server-side apply conflict instead of
 * repairing the drift (test/cluster/production.test.ts, test 7, showed it on the live cluster).
 */
import { describe, expect, it } from "vitest";
import { installMocks } from "../test/harness";
import { stackTestConfig } from "../test/stack-config";

describe.each(["dev", "staging", "production"])("%s", (stack) => {
  it("every Deployment carries pulumi.com/patchForce: true", async () => {
    const { config, secretKeys } = stackTestConfig(stack);
    const h = await installMocks({ stack, config, secretKeys });
    const { program } = await import("./program");
    await program();
    await h.settle();
    const deployments = h.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const metadata = d.inputs.metadata as { annotations?: Record<string, string> };
      expect(metadata.annotations?.["pulumi.com/patchForce"], d.name).toBe("true");
    }
  });
});
