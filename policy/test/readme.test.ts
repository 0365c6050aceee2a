/**
 * The README's rule table is the one the rules' own metadata generates (rules-table.ts), so a
 * level, a config default or a peer is written once, in the rule. Fix a failure with
 * `npm run docs:policy`.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { documentedPolicies, policyNames } from "../policies";
import { readmeRulesTable, rulesTable, rulesTableCells, tableCells } from "../rules-table";

const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

describe("policy/README.md's rule table", () => {
  it("matches the rules' metadata, cell by cell (run `npm run docs:policy` to update it)", () => {
    expect(tableCells(readmeRulesTable(readme))).toEqual(rulesTableCells(documentedPolicies));
  });

  it("has one row per policy of the pack, in the pack's order", () => {
    const rows = tableCells(readmeRulesTable(readme)).slice(1);
    expect(rows.map((r) => r[0])).toEqual(policyNames.map((n) => `\`${n}\``));
  });

  it("shows the level and the config defaults the rule declares", () => {
    const row = (name: string) =>
      tableCells(readmeRulesTable(readme)).find((r) => r[0] === `\`${name}\``);
    expect(row("non-root")?.slice(2, 4)).toEqual([
      "mandatory",
      "`minRunAsUser` (`1`), `forbidRootGroup` (`false`)",
    ]);
    expect(row("waiver-valid")?.slice(2, 4)).toEqual([
      "mandatory",
      "`maxDays` (`180`), `minReasonLength` (`10`)",
    ]);
    expect(row("pdb-targets-pods")?.[1]).toMatch(/^_Stack\._ /);
    expect(row("secret-data-as-pulumi-secret")?.slice(1, 3)).toEqual([
      expect.stringMatching(/^_Remediation\._ /),
      "remediate",
    ]);
  });

  it("reads back what it writes: a pipe in a cell stays in its cell", () => {
    const policy = { name: "x", checks: "a | b", peers: "none", enforcementLevel: "advisory" };
    expect(rulesTable([policy])).toContain("| `x` | a \\| b | advisory | – | none |");
    expect(tableCells(rulesTable([policy]))).toEqual([
      ["Rule", "What it checks", "Default", "Config (default)", "Peers that check the same"],
      ["`x`", "a | b", "advisory", "–", "none"],
    ]);
  });
});
