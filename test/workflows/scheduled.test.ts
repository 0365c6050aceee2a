/**
 * The scheduled workflows: drift.yml refresh-previews each stack and reports to an issue
 * (.github/scripts/drift-issue.cjs), images.yml prunes old images (.github/scripts/prune-images.cjs).
 */
import { describe, expect, it } from "vitest";
import { job } from "../delivery";

describe("drift", () => {
  const drift = job("drift.yml", "drift");
  const steps = drift.steps ?? [];

  it("refresh-previews each stack expecting no changes and reports to an issue", () => {
    const check = steps.find((s) => s.id === "drift")!;
    expect(check.run).toMatch(/pulumi preview --stack "\$STACK" --refresh --expect-no-changes/);
    expect(check.run).toContain("set -o pipefail");
    expect(check["continue-on-error"]).toBe(true);
    const report = steps.at(-1)!;
    expect(report.env?.OUTCOME).toBe("${{ steps.drift.outcome }}");
    expect(report.with?.script).toContain("drift.report(");
  });
});

describe("image retention (architecture seed §9.2: Docker images 30 days on GHCR)", () => {
  it("runs weekly with 30 days of retention and only that job may delete packages", () => {
    const retention = job("images.yml", "retention");
    expect(retention.env?.RETENTION_DAYS).toBe("30");
    expect(retention.env?.KEEP_NEWEST).toBe("10");
    expect(retention.permissions).toEqual({ contents: "read", packages: "write" });
    expect(retention.steps!.at(-1)!.with?.script).toContain("prune(");
  });
});
