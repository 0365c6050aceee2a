/**
 * The policy findings table of the PR gate (.github/scripts/policy-report.cjs): engine output
 * recorded from real previews of this repository (test/fixtures/engine-output/, recorded by its
 * record.sh) goes through the renderer, and the markdown is asserted: the clean dev stack, the
 * insecure fixture (mandatory and advisory findings, an expired waiver), the same with the waiver in
 * effect, a config error and an engine error. Synthetic events cover what no recording can show
 * cheaply: GitHub's comment size limit and text that would break a markdown table.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { WAIVER_PREFIX } from "../../policy/lib/waivers";
import * as report from "./policy-report.cjs";

const RECORDED = path.join(__dirname, "..", "..", "test", "fixtures", "engine-output");

interface Recording {
  readonly events: string;
  readonly log: string;
  readonly outcome: string;
}
function recording(name: string): Recording {
  const read = (ext: string) => fs.readFileSync(path.join(RECORDED, `${name}.${ext}`), "utf8");
  return { events: read("events.jsonl"), log: read("output.txt"), outcome: read("outcome").trim() };
}
function previewOf(name: string, stack: string) {
  const r = recording(name);
  return report.readPreview({ events: r.events, log: r.log, outcome: r.outcome, stack });
}

/** The rows of the markdown tables (header and separator excluded). */
function tableRows(md: string): string[] {
  return md
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| level |") && !l.startsWith("|---"));
}
/** The cells of a table row, honouring `\|`. */
function cells(rowText: string): string[] {
  return rowText
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((c) => c.trim());
}

/** One policy event in the shape the engine writes (apitype.PolicyEvent, CLI v3.259.0). */
function policyEvent(
  i: number,
  opts: { level?: string; rule?: string; name?: string; message?: string } = {},
) {
  return JSON.stringify({
    sequence: i,
    timestamp: 1_780_000_000,
    policyEvent: {
      resourceUrn: `urn:pulumi:staging::monkeytown::monkeytown:web:WebService$kubernetes:apps/v1:Deployment::${opts.name ?? `web-${i}`}`,
      message: `Containers run as a non-root user.\n${opts.message ?? `Deployment "web-${i}", container "nginx" runs as root (uid 0). Root in a container is root on the node once it escapes. Fix: set securityContext.runAsNonRoot: true and runAsUser: 1001.`}\n`,
      color: "never",
      policyName: opts.rule ?? "non-root",
      policyPackName: "monkeytown-policy",
      policyPackVersion: "0.1.0",
      policyPackVersionTag: "0.1.0",
      enforcementLevel: opts.level ?? "mandatory",
      severity: "high",
    },
  });
}

describe("the waiver markers the renderer reads are the pack's", () => {
  it("uses the pack's waiver prefix", () => {
    expect(report.WAIVER_PREFIX).toBe(WAIVER_PREFIX);
    expect(report.WAIVER_PREFIX).toBe("policy.monkeytown.dev/waive-");
  });
});

describe("recorded previews of this repository", () => {
  const SHA = "0123456789abcdef";

  it("dev, clean: passed, and one line says there are no findings", () => {
    const preview = previewOf("dev", "dev");
    expect(preview.failed).toBe(false);
    expect(preview.findings).toEqual([]);
    expect(preview.errors).toEqual([]);
    const md = report.renderReport(preview, { sha: SHA });
    expect(md).toBe(
      [
        ":white_check_mark: **The preview of `dev` passed** at 0123456789abcdef.",
        "",
        "**Policy findings:** none: the 32 rules of `monkeytown` 0.1.0 passed on 21 resources.",
      ].join("\n"),
    );
  });

  describe("the insecure fixture", () => {
    const preview = previewOf("insecure", "staging");
    const md = report.renderReport(preview, { sha: SHA });
    const rows = tableRows(md);
    const fold = md.indexOf("<details>");

    it("failed on its mandatory findings, and says so instead of the generic sentence", () => {
      expect(preview.failed).toBe(true);
      // The engine's closing "preview failed" is the policy verdict, not an error of its own.
      expect(preview.errors).toEqual([]);
      expect(md.split("\n").slice(0, 3)).toEqual([
        ":x: **The preview of `staging` failed** at 0123456789abcdef: 9 mandatory policy violations. This pull request cannot merge until it passes.",
        "",
        "**Policy findings:** 9 mandatory, 16 advisory (policy pack `monkeytown` 0.1.0).",
      ]);
      expect(md).not.toContain("preview failed");
      expect(md).not.toContain("or the preview itself failed");
    });

    it("lists every finding once: mandatory in the table, advisory folded below", () => {
      expect(rows).toHaveLength(25);
      const levels = rows.map((r) => cells(r)[0].replace(/<br>.*/, ""));
      expect(levels.slice(0, 9)).toEqual(Array(9).fill("**mandatory**"));
      expect(levels.slice(9)).toEqual(Array(16).fill("advisory"));
      expect(fold).toBeGreaterThan(md.indexOf(rows[8]));
      expect(md.indexOf(rows[9])).toBeGreaterThan(fold);
      expect(md.slice(fold)).toMatch(
        /^<details>\n<summary>16 advisory \(do not block the merge\)<\/summary>\n\n\| level \| rule \| resource \| what is wrong, and the fix \| waiver \|\n/,
      );
      expect(md.trimEnd().endsWith("</details>")).toBe(true);
      expect(
        rows.slice(0, 9).map((r) => `${cells(r)[1]} ${cells(r)[2].replace(/<br>.*/, "")}`),
      ).toEqual([
        "`hpa-no-fixed-replicas` `api`",
        "`network-policy-coverage` `debug`",
        "`no-plaintext-secrets` `api-config`",
        "`no-plaintext-secrets` `web`",
        "`non-root` `web`",
        "`pdb-below-min-replicas` `api`",
        "`pdb-for-replicated-workloads` `web`",
        "`resource-limits` `web`",
        "`waiver-valid` `public`",
      ]);
    });

    it("a row: level and severity, rule, resource name and type, the message, its fix, the waiver", () => {
      expect(rows).toContain(
        "| **mandatory**<br>critical | `non-root` | `web`<br>`kubernetes:apps/v1:Deployment` | " +
          'Deployment "web", container "nginx" sets securityContext.runAsUser: 0 (root). A process running as root inside the container is root on the node the moment it escapes (a kernel or runtime bug, a hostPath mount), and it can rewrite its own image at run time.' +
          "<br>**Fix:** set runAsUser to a non-zero UID (1001 here). | none |",
      );
      expect(rows).toContain(
        "| advisory<br>high | `no-host-access` | `debug`<br>`kubernetes:core/v1:Pod` | " +
          'Pod "debug" sets hostPID: true and shares the node\'s process namespace: it can see and signal every process on the node.' +
          "<br>**Fix:** remove spec.hostPID. | none |",
      );
      for (const r of rows) {
        expect(cells(r), r).toHaveLength(5);
        expect(r, r).toContain("<br>**Fix:** ");
      }
    });

    it("an expired waiver: reported, and it does not apply to the rule it names", () => {
      const find = (rule: string) => rows.find((r) => r.includes(`| \`${rule}\` | \`public\``))!;
      expect(cells(find("waiver-valid"))[4]).toBe(
        "waiver of `no-load-balancer` is invalid: it silences nothing",
      );
      expect(cells(find("no-load-balancer"))[4]).toBe("does not apply: it expired on 2020-01-31");
      const others = rows.filter((r) => !r.includes("`public`"));
      expect(others.map((r) => cells(r)[4])).toEqual(Array(others.length).fill("none"));
    });
  });

  it("the insecure fixture with its waiver in effect: the rule is skipped, and the row says until when", () => {
    const md = report.renderReport(previewOf("insecure-waived", "staging"));
    const rows = tableRows(md);
    expect(md).toContain("**Policy findings:** 8 mandatory, 16 advisory");
    expect(rows.filter((r) => r.includes("`public`"))).toEqual([
      "| advisory<br>low | `waivers-in-effect` | `public`<br>`kubernetes:core/v1:Service` | " +
        'Waiver in effect on public: rule "no-load-balancer" is skipped until 2026-12-30. Reason: temporary demo endpoint, approved by nobody | ' +
        "applies: `no-load-balancer` skipped until 2026-12-30 |",
    ]);
    expect(md).not.toContain("`no-load-balancer` | `public`");
    expect(md).not.toContain("`waiver-valid`");
  });

  it("a config error: the RunError's own text, every problem, and no table", () => {
    const preview = previewOf("config-error", "dev");
    const md = report.renderReport(preview, { sha: SHA });
    expect(md).toBe(
      [
        ":x: **The preview of `dev` failed** at 0123456789abcdef: an error that is not a policy finding (below). This pull request cannot merge until it passes.",
        "",
        "```text",
        'Invalid configuration in Pulumi.dev.yaml (stack "dev"): 2 problems; nothing was created.',
        "  - monkeytown:web.replicas: expected a number, got a string. Fix: set it to a number, e.g. `pulumi config set --path monkeytown:web.replicas 2 -s dev`.",
        "  - monkeytown:web.replica: is not a known configuration key. Fix: remove or rename it (check the spelling against the README's config table).",
        "```",
        "",
        "**Policy findings:** none reported before the preview stopped.",
      ].join("\n"),
    );
  });

  it("an engine error before the engine ran: the CLI's error text", () => {
    const preview = previewOf("engine-error", "dev");
    expect(preview.eventCount).toBe(0);
    expect(report.renderReport(preview)).toBe(
      [
        ":x: **The preview of `dev` failed**: an error that is not a policy finding (below). This pull request cannot merge until it passes.",
        "",
        "```text",
        "getting stack configuration: get stack secrets manager: incorrect passphrase",
        "```",
        "",
        "**Policy findings:** none: the engine did not start, so the policy pack did not run.",
      ].join("\n"),
    );
  });

  it("the comment adds the preview's own output, folded, within the limit", () => {
    const md = report.renderReport(previewOf("insecure", "staging"), {
      heading: "#### :tropical_drink: `preview` on monkeytown/staging",
      runUrl: "https://github.com/o/r/actions/runs/1",
      includeLog: true,
    });
    expect(md.length).toBeLessThanOrEqual(65536);
    const log = md.slice(md.indexOf("<details>\n<summary>Pulumi report</summary>"));
    expect(log).toContain(
      "The preview's output (full log: https://github.com/o/r/actions/runs/1):",
    );
    expect(log).toContain("Previewing update (test):");
    expect(log).toMatch(/Policy Packs run:\n.*\n.*0\.1\.0\n```\n<\/details>$/);
    expect(log).not.toContain("earlier line");
  });
});

describe("resources and colours", () => {
  it("takes the type without parent types, and the name, from a URN", () => {
    expect(
      report.parseUrn(
        "urn:pulumi:staging::monkeytown::monkeytown:api:ApiService$kubernetes:apps/v1:Deployment::api-blue",
      ),
    ).toEqual({ type: "kubernetes:apps/v1:Deployment", name: "api-blue" });
    expect(report.parseUrn(undefined, "production")).toEqual({
      type: "(stack)",
      name: "production",
    });
  });

  it("drops Pulumi colour markup and ANSI escapes", () => {
    expect(report.stripColors("<{%fg 1%}>mandatory: <{%reset%}>\u001b[31mno\u001b[0m")).toBe(
      "mandatory: no",
    );
  });
});

describe("GitHub's comment size limit", () => {
  const many = (n: number, level = "mandatory") =>
    Array.from({ length: n }, (_, i) => policyEvent(i, { level })).join("\n");

  it("leaves out whole rows from the end and counts them, within 65536 characters", () => {
    const events = [many(400), many(400, "warning")].join("\n");
    const preview = report.readPreview({ events, outcome: "failure", stack: "staging" });
    expect(preview.findings).toHaveLength(800);
    const md = report.renderReport(preview, {
      stack: "staging",
      heading: "#### :tropical_drink: `preview` on monkeytown/staging",
      includeLog: true,
    });
    expect(report.COMMENT_LIMIT).toBe(65536);
    expect(md.length).toBeLessThanOrEqual(65536);
    const rows = tableRows(md);
    for (const r of rows) {
      expect(r.endsWith(" | none |"), r).toBe(true);
      expect(cells(r)).toHaveLength(5);
    }
    const note =
      /\*\*(\d+) more findings not shown\*\* \((\d+) mandatory(?:, (\d+) advisory)?\)/.exec(md);
    expect(note, md.slice(-600)).not.toBeNull();
    const [, left, leftMandatory, leftAdvisory] = note!.map(Number);
    expect(rows.length + left).toBe(800);
    // Mandatory rows first: advisory ones go before any mandatory one is left out.
    expect(leftAdvisory).toBe(400);
    expect(leftMandatory).toBe(400 - rows.length);
    expect(md).toContain("<summary>Pulumi report</summary>");
    expect(md).toContain("The preview of `staging` failed");
  });

  it("drops advisory rows first and keeps every mandatory one when they fit", () => {
    const events = [many(100), many(400, "warning")].join("\n");
    const md = report.renderReport(
      report.readPreview({ events, outcome: "failure", stack: "staging" }),
      { stack: "staging", includeLog: true },
    );
    expect(md.length).toBeLessThanOrEqual(65536);
    const rows = tableRows(md);
    expect(rows.filter((r) => r.startsWith("| **mandatory**"))).toHaveLength(100);
    const note = /\*\*(\d+) more findings not shown\*\* \((\d+) advisory\)/.exec(md);
    expect(note).not.toBeNull();
    expect(rows.length - 100 + Number(note![1])).toBe(400);
  });

  it("shows everything, with no note, when it fits, and honours a larger limit", () => {
    const events = many(400);
    const preview = report.readPreview({ events, outcome: "failure", stack: "staging" });
    const md = report.renderReport(preview, { limit: report.STEP_SUMMARY_LIMIT });
    expect(report.STEP_SUMMARY_LIMIT).toBe(1048576);
    expect(tableRows(md)).toHaveLength(400);
    expect(md).not.toContain("not shown");
  });

  it("keeps the end of the preview's output, whole lines, in what room is left", () => {
    const log = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
    const preview = report.readPreview({ events: many(3), log, outcome: "failure" });
    const md = report.renderReport(preview, { stack: "dev", includeLog: true });
    expect(md.length).toBeLessThanOrEqual(65536);
    expect(md.length).toBeGreaterThan(60000);
    expect(md).toContain(`line 4999 ${"x".repeat(40)}\n\`\`\`\n</details>`);
    const cut = /… (\d+) earlier lines left out\nline (\d+) x/.exec(md);
    expect(cut).not.toBeNull();
    expect(Number(cut![1])).toBe(Number(cut![2]));
    expect(tableRows(md)).toHaveLength(3);
  });
});

describe("text that would break the table", () => {
  it("escapes pipes, HTML and emphasis, and keeps one line per row", () => {
    const events = policyEvent(1, {
      rule: "no-plaintext-secrets",
      name: "api|config",
      message:
        'ConfigMap "api": key "DB_PASSWORD" holds *secret* <b>material</b> | a_b.\nSecond line. Fix: use a Secret & `secretKeyRef`.',
    });
    const md = report.renderReport(report.readPreview({ events, outcome: "failure" }));
    const rows = tableRows(md);
    expect(rows).toHaveLength(1);
    expect(cells(rows[0])).toEqual([
      "**mandatory**<br>high",
      "`no-plaintext-secrets`",
      "`api\\|config`<br>`kubernetes:apps/v1:Deployment`",
      'ConfigMap "api": key "DB\\_PASSWORD" holds \\*secret\\* &lt;b&gt;material&lt;/b&gt; \\| a\\_b.<br>Second line.<br>**Fix:** use a Secret &amp; \\`secretKeyRef\\`.',
      "none",
    ]);
  });
});

describe("the command line", () => {
  it("prints the report of an event log and an output file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-report-"));
    try {
      const events = path.join(dir, "e.jsonl");
      fs.writeFileSync(events, [policyEvent(1), policyEvent(2, { level: "warning" })].join("\n"));
      const writes: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => writes.push(chunk) > 0) as typeof write;
      let code: number;
      try {
        code = report.main(["--stack", "prod", "--events", events, "--outcome", "failure"]);
      } finally {
        process.stdout.write = write;
      }
      expect(code).toBe(0);
      const out = writes.join("");
      expect(out).toContain("**Policy findings:** 1 mandatory, 1 advisory");
      expect(out).toContain(":x: **The preview of `prod` failed**: 1 mandatory policy violation.");
      expect(out).not.toContain("Pulumi report");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects unknown arguments and a bad outcome", () => {
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof stderr;
    try {
      expect(report.main(["--stack", "dev", "--bogus", "1"])).toBe(2);
      expect(report.main(["--stack", "dev", "--outcome", "maybe"])).toBe(2);
      expect(report.main(["--events", "x"])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
