/**
 * Every external action in the workflows and the setup action is pinned to a full commit SHA, with its
 * version beside it, the same everywhere.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, workflows } from "../delivery";

describe("actions are pinned to a commit", () => {
  const files = [
    ...Object.values(workflows()).map(({ file, text }) => ({ file, text })),
    {
      file: "actions/setup/action.yml",
      text: fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8"),
    },
  ];
  const PINNED = /^([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/;

  it("every external action is a full commit SHA with its version beside it, the same everywhere", () => {
    const pins = new Map<string, string>();
    let external = 0;
    for (const { file, text } of files) {
      for (const m of text.matchAll(/^\s*(?:- )?uses:\s*(.+?)\s*$/gm)) {
        const ref = m[1];
        if (ref.startsWith("./")) continue;
        external += 1;
        const pin = PINNED.exec(ref);
        expect(pin, `${file}: ${ref}`).not.toBeNull();
        const [, action, sha, version] = pin!;
        const seen = pins.get(action);
        if (seen) expect(`${sha} ${version}`, `${file}: ${action}`).toBe(seen);
        pins.set(action, `${sha} ${version}`);
      }
    }
    expect(external).toBeGreaterThan(10);
    expect([...pins.keys()].sort()).toEqual([
      "actions/checkout",
      "actions/github-script",
      "actions/setup-go",
      "actions/setup-node",
      "pulumi/actions",
    ]);
  });

  it("rejects a tag, a branch and a short SHA", () => {
    for (const ref of [
      "actions/checkout@v7",
      "actions/checkout@main",
      "actions/checkout@3d3c42e # v7.0.1",
    ]) {
      expect(PINNED.test(ref), ref).toBe(false);
    }
  });
});
