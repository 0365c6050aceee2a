/**
 * The drift issue (drift-issue.cjs): drift told from a clean run and from another failure, an issue
 * that names the drifted resources but no value, opened, updated and closed as drift comes and goes.
 * drift.yml's use of it: test/workflows/scheduled.test.ts.
 */
import { describe, expect, it } from "vitest";
import * as driftIssue from "./drift-issue.cjs";

describe("drift-issue.cjs", () => {
  it("tells drift from a clean run and from another failure", () => {
    expect(driftIssue.classify("success", "")).toBe("clean");
    expect(
      driftIssue.classify("failure", "error: no changes were expected but changes were proposed"),
    ).toBe("drift");
    expect(
      driftIssue.classify(
        "failure",
        "error: no changes were expected for preview but changes were proposed",
      ),
    ).toBe("drift");
    expect(driftIssue.classify("failure", "error: failed to load kubeconfig")).toBe("error");
  });

  it("the issue lists the drifted resources but no property values", () => {
    const log = [
      "Previewing update (staging)",
      "     Type                              Name             Plan       Info",
      "  ~  kubernetes:apps/v1:Deployment     web-deployment   update     [diff: ~spec]",
      "      password: hunter2",
      "Resources:",
      "    ~ 1 to update",
    ].join("\n");
    const body = driftIssue.issueBody({ stack: "staging", log, runUrl: "https://x/runs/9" });
    expect(body).toContain("kubernetes:apps/v1:Deployment     web-deployment");
    expect(body).toContain("~ 1 to update");
    expect(body).toContain("https://x/runs/9");
    expect(body).not.toContain("hunter2");
    expect(driftIssue.issueTitle("production")).toBe("Drift detected in production");
  });

  it("opens an issue on drift, updates it while drift lasts, closes it when clean", async () => {
    const calls: string[] = [];
    let open: { number: number; title: string }[] = [];
    const github = {
      paginate: async () => open,
      rest: {
        issues: {
          listForRepo: () => undefined,
          create: async (a: { title: string }) => {
            calls.push(`create ${a.title}`);
            open = [{ number: 7, title: a.title }];
            return { data: { number: 7 } };
          },
          update: async (a: { issue_number: number; state?: string }) => {
            calls.push(`update #${a.issue_number}${a.state ? ` ${a.state}` : ""}`);
          },
          createComment: async (a: { issue_number: number; body: string }) => {
            calls.push(`comment #${a.issue_number} ${a.body.split(":")[0]}`);
          },
        },
      },
    };
    const context = { repo: { owner: "o", repo: "r" }, serverUrl: "https://github.com", runId: 1 };
    const failures: string[] = [];
    const core = {
      warning: () => undefined,
      info: () => undefined,
      setFailed: (m: string) => failures.push(m),
    };
    const drifted = "error: no changes were expected but changes were proposed";
    const run = (outcome: string, log: string) =>
      driftIssue.report({ github, context, core, stack: "staging", outcome, log });
    expect(await run("failure", drifted)).toBe("drift");
    expect(await run("failure", drifted)).toBe("drift");
    expect(await run("success", "")).toBe("clean");
    expect(calls).toEqual([
      "create Drift detected in staging",
      "update #7",
      "comment #7 Still drifting",
      "comment #7 No drift any more",
      "update #7 closed",
    ]);
    expect(await run("failure", "error: backend unreachable")).toBe("error");
    expect(failures).toHaveLength(1);
  });
});
