/**
 * The preview comment's helpers (pr-comment.cjs): the heading and fold a stack's comment is found by,
 * and the project name it takes from Pulumi.yaml. preview.yml's comment step runs them in
 * test/workflows/preview.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as report from "./policy-report.cjs";
import * as prComment from "./pr-comment.cjs";

const ROOT = path.resolve(__dirname, "..", "..");

describe("pr-comment.cjs: one comment per stack, found by its heading", () => {
  it("the comment carries the heading and the fold it is found by", () => {
    const preview = report.readPreview({
      events: "",
      log: "",
      outcome: "success",
      stack: "staging",
    });
    const body = prComment.commentBody({
      project: "monkeytown",
      stack: "staging",
      preview,
      runUrl: "https://x/run/1",
      sha: "abc",
    });
    expect(body.startsWith("#### :tropical_drink: `preview` on monkeytown/staging\n")).toBe(true);
    expect(body).toContain(prComment.SUMMARY);
    expect(prComment.SUMMARY).toBe("<summary>Pulumi report</summary>");
  });

  it("finds the comment of its own stack and no other", () => {
    const bodyOf = (stack: string) =>
      prComment.commentBody({
        project: "monkeytown",
        stack,
        preview: report.readPreview({ events: "", outcome: "failure", stack }),
        runUrl: "u",
        sha: "s",
      });
    const comments = [
      { id: 1, body: "an unrelated comment" },
      { id: 2, body: bodyOf("production") },
      {
        id: 3,
        body: `${prComment.heading("monkeytown", "staging")}\n\n<details>\n${prComment.SUMMARY}\n<pre>ok</pre>`,
      },
      { id: 4, body: null },
    ];
    expect(prComment.findStackComment(comments, "monkeytown", "staging")?.id).toBe(3);
    expect(prComment.findStackComment(comments, "monkeytown", "production")?.id).toBe(2);
    expect(prComment.findStackComment(comments, "other", "staging")).toBeUndefined();
  });

  it("reads the project name the heading uses from Pulumi.yaml", () => {
    expect(prComment.projectName(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"))).toBe(
      "monkeytown",
    );
    expect(() => prComment.projectName("runtime: nodejs\n")).toThrow(/no top-level `name:`/);
  });
});
