/**
 * Which events start each workflow, and which stacks the previews, drift checks and deploys cover.
 */
import { describe, expect, it } from "vitest";
import { DEPLOYED_STACKS, job, wf } from "../delivery";

describe("triggers", () => {
  it("ci runs on every push and every pull request", () => {
    const on = wf("ci.yml").on as Record<string, unknown>;
    expect(Object.keys(on).sort()).toEqual(["pull_request", "push"]);
    expect(on.push).toBeNull();
    expect(on.pull_request).toBeNull();
  });

  it("preview runs on pull requests to main", () => {
    expect(wf("preview.yml").on).toEqual({ pull_request: { branches: ["main"] } });
  });

  it("deploy runs on pushes to main (and by hand), never on pull requests", () => {
    expect(wf("deploy.yml").on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
    expect(Object.keys(wf("deploy-stack.yml").on)).toEqual(["workflow_call"]);
  });

  it("drift and image retention run on a schedule and by hand", () => {
    for (const file of ["drift.yml", "images.yml"]) {
      const on = wf(file).on as Record<string, { cron: string }[]>;
      expect(Object.keys(on).sort(), file).toEqual(["schedule", "workflow_dispatch"]);
      expect(on.schedule[0].cron, file).toMatch(/^\d+ \d+ \* \* [*\d]$/);
    }
  });
});

describe("stacks", () => {
  it("preview and drift cover staging and production, one job each, none stopping the other", () => {
    for (const [file, id] of [
      ["preview.yml", "preview"],
      ["drift.yml", "drift"],
    ] as const) {
      const j = job(file, id);
      expect(j.strategy?.matrix?.stack, file).toEqual(DEPLOYED_STACKS);
      expect((j.strategy as Record<string, unknown>)["fail-fast"], file).toBe(false);
      expect(j.env?.STACK, file).toBe("${{ matrix.stack }}");
    }
  });

  it("deploy updates staging, then production, through the one stack workflow", () => {
    const jobs = wf("deploy.yml").jobs;
    expect(Object.keys(jobs)).toEqual(["staging", "production"]);
    for (const stack of DEPLOYED_STACKS) {
      expect(jobs[stack].uses).toBe("./.github/workflows/deploy-stack.yml");
      expect(jobs[stack].with).toEqual({ stack });
      expect(jobs[stack].secrets).toBe("inherit");
    }
    expect(jobs.staging.needs).toBeUndefined();
    expect(jobs.production.needs).toBe("staging");
  });
});
