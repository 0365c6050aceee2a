/**
 * Concurrency: one deploy per stack at a time and never cancelled, previews and drift checks that
 * supersede each other, ci cancelled except on main.
 */
import { describe, expect, it } from "vitest";
import { allSteps, concurrencyGroup, job, pulumiSteps, wf, workflows } from "../delivery";

describe("concurrency", () => {
  const deploy = job("deploy-stack.yml", "deploy");

  it("one deploy per stack at a time, never cancelled half-way", () => {
    expect(deploy.concurrency).toEqual({
      group: "deploy-${{ inputs.stack }}",
      "cancel-in-progress": false,
    });
  });

  it("only the stack deploy workflow runs pulumi up", () => {
    expect(pulumiSteps("up").map((s) => `${s.file}:${s.jobId}`)).toEqual([
      "deploy-stack.yml:deploy",
    ]);
    for (const { file, step } of allSteps()) {
      if (file === "deploy-stack.yml") continue;
      expect(step.run ?? "", `${file}: ${step.name}`).not.toMatch(/pulumi up|rollback\.sh to/);
    }
  });

  it("previews supersede each other per pull request and stack; drift never queues behind a deploy", () => {
    expect(job("preview.yml", "preview").concurrency).toEqual({
      group: "preview-${{ github.event.pull_request.number }}-${{ matrix.stack }}",
      "cancel-in-progress": true,
    });
    expect(concurrencyGroup(job("preview.yml", "policy").concurrency)).toBe(
      "preview-${{ github.event.pull_request.number }}-policy",
    );
    expect(job("drift.yml", "drift").concurrency).toEqual({
      group: "drift-${{ matrix.stack }}",
      "cancel-in-progress": true,
    });
    const groups = Object.values(workflows()).flatMap(({ file, wf: w }) =>
      Object.entries(w.jobs)
        .map(([id, j]) => [`${file}:${id}`, concurrencyGroup(j.concurrency)] as const)
        .filter(([, g]) => g?.startsWith("deploy-")),
    );
    expect(groups).toEqual([["deploy-stack.yml:deploy", "deploy-${{ inputs.stack }}"]]);
  });

  it("ci cancels superseded runs except on main", () => {
    expect(wf("ci.yml").concurrency).toEqual({
      group: "ci-${{ github.ref }}",
      "cancel-in-progress": "${{ github.ref != 'refs/heads/main' }}",
    });
  });
});
