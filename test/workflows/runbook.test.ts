/**
 * docs/runbook.md: the scripts, workflows and policy configs it names exist, it covers every procedure
 * the delivery issue asks for, and it lists the required checks as branch protection names them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REQUIRED_CHECK_CONTEXTS } from "../../components/repository/checks";
import { ROOT } from "../delivery";

describe("docs/runbook.md", () => {
  const runbook = fs.readFileSync(path.join(ROOT, "docs", "runbook.md"), "utf8");

  it("names only scripts, workflows and policy configs that exist", () => {
    const paths = new Set(
      [
        ...runbook.matchAll(
          /(?:scripts\/[\w./-]+\.sh|\.github\/workflows\/[\w-]+\.yml|policy\/config\/(?:dev|staging|production)\.json)/g,
        ),
      ].map((m) => m[0]),
    );
    expect(paths.size).toBeGreaterThanOrEqual(8);
    for (const p of paths) expect(fs.existsSync(path.join(ROOT, p)), p).toBe(true);
  });

  it("covers every procedure the delivery issue asks for", () => {
    for (const heading of [
      "## Previewing",
      "## Deploying",
      "### To the previous images",
      "### To a previous stack state",
      "## Blue-green switch",
      "### P1: critical, system down",
      "### P2: high, degraded service",
      "### P3: warning, degraded experience",
      "## Rotating a secret",
      "## Adding an environment",
      "### Health check fails after a deploy",
      "### A rollout is stuck",
      "### A policy violation blocks a pull request",
      "### The stack is locked",
    ]) {
      expect(runbook, heading).toContain(`\n${heading}\n`);
    }
  });

  it("lists the required checks exactly as branch protection names them", () => {
    for (const context of REQUIRED_CHECK_CONTEXTS) expect(runbook).toContain(`\`${context}\``);
  });
});
