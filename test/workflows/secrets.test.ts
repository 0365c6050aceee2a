/**
 * Secrets in the workflows: only from the secrets context, never echoed or traced, and the passphrase
 * only where Pulumi runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PULUMI_ACTION, ROOT, allSteps, workflows } from "../delivery";

/** Lines of a run script that print a secret-fed variable anywhere but into a file under $RUNNER_TEMP. */
function secretEchoes(run: string, secretVars: readonly string[]): string[] {
  return run.split("\n").filter((line) => {
    if (!/\b(echo|printf|cat)\b/.test(line)) return false;
    const named = secretVars.some((v) => new RegExp(`\\$\\{?${v}\\b`).test(line));
    return named && !/>\s*"\$RUNNER_TEMP\//.test(line);
  });
}

describe("secrets", () => {
  const secretFed = (env: Record<string, string> | undefined) =>
    Object.entries(env ?? {})
      .filter(([, v]) => String(v).includes("secrets."))
      .map(([k]) => k);

  it("come only from the secrets context, never written into a script", () => {
    for (const { file, jobId, step } of allSteps()) {
      expect(step.run ?? "", `${file}:${jobId} ${step.name}`).not.toContain("secrets.");
      expect(String(step.with?.script ?? ""), `${file}:${jobId} ${step.name}`).not.toContain(
        "secrets.",
      );
    }
  });

  it("are never echoed, and no script traces its commands", () => {
    for (const { file, jobId, job: j, step } of allSteps()) {
      const vars = [...secretFed(j.env), ...secretFed(step.env), "KUBECONFIG_CONTENT"];
      expect(secretEchoes(step.run ?? "", vars), `${file}:${jobId} ${step.name}`).toEqual([]);
      expect(step.run ?? "", `${file}:${jobId}`).not.toMatch(/set -[a-z]*x|bash -x/);
    }
    const action = fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8");
    expect(action).toContain(`printf '%s\\n' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kubeconfig"`);
    expect(action).toContain("umask 077");
  });

  it("the echo detector catches a printed secret and allows one written to a private file", () => {
    expect(
      secretEchoes('echo "pass: $PULUMI_CONFIG_PASSPHRASE"', ["PULUMI_CONFIG_PASSPHRASE"]),
    ).toHaveLength(1);
    expect(secretEchoes("printf '%s' ${TOKEN}", ["TOKEN"])).toHaveLength(1);
    expect(secretEchoes('printf \'%s\' "$TOKEN" > "$RUNNER_TEMP/t"', ["TOKEN"])).toEqual([]);
    expect(secretEchoes('echo "$STACK"', ["TOKEN"])).toEqual([]);
  });

  it("the passphrase reaches only the steps that run Pulumi, never npm ci", () => {
    for (const { file, wf: w } of Object.values(workflows())) {
      for (const [id, j] of Object.entries(w.jobs)) {
        expect(
          secretFed(j.env).filter((k) => k !== "PULUMI_BACKEND_URL"),
          `${file}:${id}`,
        ).toEqual([]);
      }
    }
    const fedSteps = allSteps().filter(({ step }) =>
      secretFed(step.env).includes("PULUMI_CONFIG_PASSPHRASE"),
    );
    expect(fedSteps.length).toBeGreaterThanOrEqual(8);
    for (const { file, step } of fedSteps) {
      const runsPulumi =
        step.uses?.startsWith(`${PULUMI_ACTION}@`) ||
        /pulumi preview|scripts\/(rollback|health-check|blue-green)\.sh|require-env\.sh/.test(
          step.run ?? "",
        );
      expect(runsPulumi, `${file}: ${step.name}`).toBe(true);
    }
  });
});
