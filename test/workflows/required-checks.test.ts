/**
 * The required checks of branch protection (components/repository/checks.ts) are the names of
 * pull-request jobs: each context comes from exactly one job of the workflow meant to produce it.
 */
import { describe, expect, it } from "vitest";
import { REQUIRED_CHECKS, REQUIRED_CHECK_CONTEXTS } from "../../components/repository/checks";
import { type Job, type Workflow, triggers, wf, workflows as allWorkflows } from "../delivery";

/** Every combination of the array-valued keys of a matrix. */
function matrixCombinations(matrix: Record<string, unknown> | undefined): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [key, values] of Object.entries(matrix ?? {})) {
    if (!Array.isArray(values)) continue;
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: String(v) })));
  }
  return combos;
}

/** The check names a job reports: its `name:` (or id) with `${{ matrix.x }}` expanded. */
function checkNames(id: string, j: Job): string[] {
  const template = j.name ?? id;
  return matrixCombinations(j.strategy?.matrix).map((combo) =>
    template.replace(
      /\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g,
      (whole, key: string) => combo[key] ?? whole,
    ),
  );
}

/** Which jobs produce each check name on pull requests (reusable-workflow calls report nested names). */
function pullRequestChecks(
  workflows: readonly { file: string; wf: Workflow }[],
): Map<string, string[]> {
  const producers = new Map<string, string[]>();
  for (const { file, wf: w } of workflows) {
    if (!triggers(w).includes("pull_request")) continue;
    for (const [id, j] of Object.entries(w.jobs)) {
      if (j.uses) continue;
      for (const name of checkNames(id, j)) {
        producers.set(name, [...(producers.get(name) ?? []), `${file}:${id}`]);
      }
    }
  }
  return producers;
}

/** Required contexts that no job produces, or that more than one job produces. */
function checkMismatches(
  contexts: readonly string[],
  workflows: readonly { file: string; wf: Workflow }[],
): string[] {
  const producers = pullRequestChecks(workflows);
  return contexts.flatMap((c) => {
    const jobs = producers.get(c) ?? [];
    if (jobs.length === 0) return [`no pull_request job is named "${c}"`];
    if (jobs.length > 1) return [`"${c}" is produced by ${jobs.join(", ")}`];
    return [];
  });
}

describe("required checks agree with branch protection (components/repository/checks.ts)", () => {
  const workflows = Object.values(allWorkflows());

  it("every required context is the name of exactly one pull_request job", () => {
    expect(checkMismatches(REQUIRED_CHECK_CONTEXTS, workflows)).toEqual([]);
  });

  it("each check comes from the workflow that is meant to produce it", () => {
    const producers = pullRequestChecks(workflows);
    expect(producers.get(REQUIRED_CHECKS.ci)).toEqual(["ci.yml:ci"]);
    expect(producers.get(REQUIRED_CHECKS.previewStaging)).toEqual(["preview.yml:preview"]);
    expect(producers.get(REQUIRED_CHECKS.previewProduction)).toEqual(["preview.yml:preview"]);
    expect(producers.get(REQUIRED_CHECKS.policy)).toEqual(["preview.yml:policy"]);
  });

  it("the agreement check fails when a workflow drops or duplicates a check", () => {
    const preview = structuredClone(wf("preview.yml"));
    delete (preview.jobs as Record<string, Job>).policy;
    (preview.jobs.preview.strategy!.matrix as Record<string, unknown>).stack = ["staging"];
    expect(
      checkMismatches(REQUIRED_CHECK_CONTEXTS, [
        { file: "ci.yml", wf: wf("ci.yml") },
        { file: "preview.yml", wf: preview },
      ]),
    ).toEqual([
      'no pull_request job is named "preview (production)"',
      'no pull_request job is named "policy"',
    ]);
    const twice = { file: "copy.yml", wf: wf("ci.yml") };
    expect(
      checkMismatches([REQUIRED_CHECKS.ci], [{ file: "ci.yml", wf: wf("ci.yml") }, twice]),
    ).toEqual(['"ci" is produced by ci.yml:ci, copy.yml:ci']);
  });

  it("a workflow that does not run on pull requests cannot satisfy a check", () => {
    const pushOnly = { ...wf("ci.yml"), on: { push: null } };
    expect(checkMismatches([REQUIRED_CHECKS.ci], [{ file: "ci.yml", wf: pushOnly }])).toEqual([
      'no pull_request job is named "ci"',
    ]);
  });
});
