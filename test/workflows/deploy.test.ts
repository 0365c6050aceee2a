/**
 * The stack deploy (deploy-stack.yml): its environment, what it records before the update, the health
 * check and the rollback on failure, the blue-green release; previews and drift checks see the colours
 * as they run.
 */
import { describe, expect, it } from "vitest";
import { job, workflows } from "../delivery";

describe("environments, health check and rollback", () => {
  const deploy = job("deploy-stack.yml", "deploy");
  const steps = deploy.steps ?? [];
  const byId = (id: string) => steps.find((s) => s.id === id);

  it("deploys run in the stack's environment (production's reviewers gate it) and nothing else does", () => {
    expect(deploy.environment).toEqual({
      name: "${{ inputs.stack }}",
      url: "${{ steps.up.outputs.webUrl }}",
    });
    const others = Object.values(workflows()).flatMap(({ file, wf: w }) =>
      Object.entries(w.jobs)
        .filter(([, j]) => j.environment !== undefined)
        .map(([id]) => `${file}:${id}`),
    );
    expect(others).toEqual(["deploy-stack.yml:deploy"]);
  });

  it("records what runs, updates, checks /health and /ready, and rolls back on failure", () => {
    expect(steps.map((s) => s.id).filter(Boolean)).toEqual([
      "before",
      "stage",
      "up",
      "smoke",
      "switch",
      "health",
    ]);
    expect(byId("before")?.run).toContain('scripts/rollback.sh deployed "$STACK"');
    expect(byId("before")?.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(byId("health")?.run).toBe('scripts/health-check.sh "$STACK"');
    const rollback = steps.at(-1)!;
    expect(rollback.if).toBe(
      "failure() && (steps.up.outcome == 'failure' || steps.smoke.outcome == 'failure' || steps.switch.outcome == 'failure' || steps.health.outcome == 'failure') && steps.before.outputs.webImage != ''",
    );
    expect(rollback.env?.WEB_IMAGE).toBe("${{ steps.before.outputs.webImage }}");
    expect(rollback.env?.API_IMAGE).toBe("${{ steps.before.outputs.apiImage }}");
    expect(rollback.run).toContain('scripts/rollback.sh to "$STACK" "$WEB_IMAGE" "$API_IMAGE"');
  });

  it("blue-green: the release goes to the idle colour, is smoke-tested through api-preview, then takes the traffic", () => {
    // Pinned to what runs, the idle colour's key freed, before the update.
    expect(byId("stage")?.run).toBe(
      'scripts/blue-green.sh stage "$STACK" | tee -a "$GITHUB_OUTPUT"',
    );
    expect(steps.indexOf(byId("stage")!)).toBe(steps.indexOf(byId("up")!) - 1);
    // After the update and before the public health check: smoke test, then switch; rolling stacks
    // (stage prints nothing) skip both.
    for (const id of ["smoke", "switch"]) {
      expect(byId(id)?.if, id).toBe("steps.stage.outputs.idleColor != ''");
    }
    expect(byId("smoke")?.run).toBe('scripts/blue-green.sh smoke "$STACK"');
    expect(byId("switch")?.run).toBe('scripts/blue-green.sh switch "$STACK" "$IDLE_BEFORE"');
    expect(byId("switch")?.env?.IDLE_BEFORE).toBe("${{ steps.stage.outputs.idleImage }}");
    // A failure anywhere puts back exactly the colours that ran before (the old serving colour never
    // changed, so the traffic returns at once).
    const rollback = steps.at(-1)!;
    expect(rollback.env).toMatchObject({
      ACTIVE_COLOR: "${{ steps.before.outputs.activeColor }}",
      BLUE_IMAGE: "${{ steps.before.outputs.blueImage }}",
      GREEN_IMAGE: "${{ steps.before.outputs.greenImage }}",
    });
    expect(rollback.run).toContain(
      'scripts/rollback.sh colors "$STACK" "$WEB_IMAGE" "$ACTIVE_COLOR" "$BLUE_IMAGE" "$GREEN_IMAGE"',
    );
    for (const id of ["stage", "smoke", "switch"]) {
      expect(byId(id)?.env?.PULUMI_CONFIG_PASSPHRASE, id).toBe(
        "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
      );
    }
  });

  it("previews and drift checks see the colours as they run, not as git has them", () => {
    const preview = job("preview.yml", "preview").steps ?? [];
    const stage = preview.findIndex((s) => s.run === 'scripts/blue-green.sh stage "$STACK"');
    const gate = preview.findIndex((s) => s.id === "preview");
    expect(stage).toBeGreaterThanOrEqual(0);
    expect(stage).toBeLessThan(gate);
    const drift = job("drift.yml", "drift").steps ?? [];
    const pin = drift.findIndex((s) => s.run === 'scripts/blue-green.sh pin "$STACK"');
    expect(pin).toBeGreaterThanOrEqual(0);
    expect(pin).toBeLessThan(drift.findIndex((s) => s.id === "drift"));
  });
});
