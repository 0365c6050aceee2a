/**
 * actionlint (with shellcheck on every `run:` script) on the workflows, and shellcheck on the delivery
 * scripts, when they are installed (`scripts/ci/install-actionlint.sh`; CI installs them).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, type RunResult } from "../delivery";

/** actionlint from PATH or from the cache scripts/ci/install-actionlint.sh installs into. */
function findTool(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(path.delimiter),
    path.join(
      process.env.MONKEYTOWN_TOOLS ?? path.join(os.homedir(), ".cache", "monkeytown-tools"),
      "bin",
    ),
  ];
  return dirs.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
}

describe("linters", () => {
  const actionlint = findTool("actionlint");
  const shellcheck = findTool("shellcheck");
  const scripts = [
    "scripts/ci/install-actionlint.sh",
    "scripts/preview-all.sh",
    "test/fixtures/engine-output/record.sh",
    "scripts/health-check.sh",
    "scripts/rollback.sh",
    "scripts/blue-green.sh",
    "scripts/lib/project.sh",
    "scripts/ci/install-real-node.sh",
    ".github/scripts/require-env.sh",
    "scripts/pulumi-toolchain.sh",
    "scripts/up-dev.sh",
    "scripts/preview.sh",
    "scripts/toolchain/versions.env",
  ];

  it("actionlint (with shellcheck on every run: script) finds nothing in the workflows", async (ctx) => {
    if (!actionlint) {
      console.log(
        "actionlint is not installed: run scripts/ci/install-actionlint.sh (CI does) to lint the workflows",
      );
      ctx.skip();
      return;
    }
    const r = await new Promise<RunResult>((resolve) =>
      execFile(
        actionlint,
        ["-no-color"],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            PATH: `${path.dirname(shellcheck ?? actionlint)}:${process.env.PATH}`,
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("the scripts parse and shellcheck finds nothing in them", async (ctx) => {
    for (const script of scripts) {
      const r = await new Promise<RunResult>((resolve) =>
        execFile("bash", ["-n", path.join(ROOT, script)], (error, stdout, stderr) =>
          resolve({ code: error ? 1 : 0, stdout, stderr }),
        ),
      );
      expect(r.code, `${script}: ${r.stderr}`).toBe(0);
    }
    if (!shellcheck) {
      console.log(
        "shellcheck is not installed: run scripts/ci/install-actionlint.sh (CI does) to check the scripts",
      );
      ctx.skip();
      return;
    }
    const r = await new Promise<RunResult>((resolve) =>
      execFile(
        shellcheck,
        // -x: follow what the scripts source (scripts/lib/), from the repository root.
        ["-x", ...scripts],
        { cwd: ROOT },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(r.stdout + r.stderr).toBe("");
  });
});
