/**
 * Least privilege: no workflow grants anything at the top, jobs read at most but for the few writes
 * they exist for, checkouts keep no credentials.
 */
import { describe, expect, it } from "vitest";
import { allSteps, workflows } from "../delivery";

describe("least privilege", () => {
  /** The only write scopes any job may hold, and why. */
  const writes: Record<string, Record<string, string>> = {
    "preview.yml:preview": { "pull-requests": "write" },
    "drift.yml:drift": { issues: "write" },
    "images.yml:retention": { packages: "write" },
  };

  it("every workflow grants nothing at the top and every job says what it needs", () => {
    for (const { file, wf: w } of Object.values(workflows())) {
      expect(w.permissions, file).toEqual({});
      for (const [id, j] of Object.entries(w.jobs)) {
        expect(j.permissions, `${file}:${id}`).toBeTypeOf("object");
      }
    }
  });

  it("jobs read contents at most, except the few writes they exist for", () => {
    for (const { file, wf: w } of Object.values(workflows())) {
      for (const [id, j] of Object.entries(w.jobs)) {
        const perms = j.permissions as Record<string, string>;
        const granted = Object.fromEntries(
          Object.entries(perms).filter(([, level]) => level !== "read" && level !== "none"),
        );
        expect(granted, `${file}:${id}`).toEqual(writes[`${file}:${id}`] ?? {});
        for (const scope of Object.keys(perms)) {
          expect(
            ["contents", "pull-requests", "issues", "packages"],
            `${file}:${id} ${scope}`,
          ).toContain(scope);
        }
      }
    }
  });

  it("checkouts keep no credentials in the work tree", () => {
    const checkouts = allSteps().filter(({ step }) => step.uses?.startsWith("actions/checkout@"));
    expect(checkouts.length).toBeGreaterThanOrEqual(6);
    for (const { file, step } of checkouts)
      expect(step.with?.["persist-credentials"], file).toBe(false);
  });
});
