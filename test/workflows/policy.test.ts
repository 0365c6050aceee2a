/**
 * The policy pack and the stack's policy config on every preview and update: in the workflows, and in
 * the scripts that run the engine outside pulumi/actions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEPLOYED_STACKS, ROOT, allSteps, pulumiSteps } from "../delivery";

describe("the policy pack and its per-stack config", () => {
  const stackExpr: Record<string, string> = {
    "preview.yml": "${{ matrix.stack }}",
    "deploy-stack.yml": "${{ inputs.stack }}",
  };

  it("every pulumi preview and up runs the pack with the stack's policy config", () => {
    const steps = pulumiSteps("up");
    expect(steps.map((s) => `${s.file}:${String(s.step.with?.command)}`)).toEqual([
      "deploy-stack.yml:up",
    ]);
    for (const { file, step } of steps) {
      expect(step.with?.["stack-name"], file).toBe(stackExpr[file]);
      expect(step.with?.policyPacks, file).toBe("policy");
      expect(step.with?.policyPackConfigs, file).toBe(`policy/config/${stackExpr[file]}.json`);
    }
    // The PR gate runs the CLI itself (pulumi/actions cannot keep the engine's events).
    expect(pulumiSteps("preview")).toEqual([]);
    const previews = allSteps().filter(({ step }) => /pulumi preview\b/.test(step.run ?? ""));
    expect(previews.map((p) => `${p.file}:${p.jobId}`).sort()).toEqual([
      "drift.yml:drift",
      "preview.yml:preview",
    ]);
    const gate = previews.find((p) => p.file === "preview.yml")!.step.run!;
    expect(gate).toContain('pulumi preview --stack "$STACK"');
    expect(gate).toContain(
      '--policy-pack policy --policy-pack-config "policy/config/${STACK}.json"',
    );
  });

  it("the scripts that run the engine outside pulumi/actions pass the same pack and config", () => {
    const preview = fs.readFileSync(path.join(ROOT, "scripts/preview-all.sh"), "utf8");
    expect(preview).toMatch(
      /--policy-pack policy --policy-pack-config "policy\/config\/\$\{?stack\}?\.json"/,
    );
    // The deploy flow's scripts also run in other project directories (MONKEYTOWN_PROJECT_DIR): the
    // pack is the repository's, the config the stack's unless MONKEYTOWN_POLICY_CONFIG names another
    // (what the fake pulumi receives: scripts/rollback.test.ts, scripts/blue-green.test.ts).
    for (const script of ["scripts/rollback.sh", "scripts/blue-green.sh"]) {
      const text = fs.readFileSync(path.join(ROOT, script), "utf8");
      expect(text, script).toContain(
        '--policy-pack "$ROOT/policy" --policy-pack-config "$POLICY_CONFIG"',
      );
      expect(text, script).toContain('POLICY_CONFIG="$(policy_config "$stack")"');
    }
    // ...from the one function both source.
    expect(fs.readFileSync(path.join(ROOT, "scripts/lib/project.sh"), "utf8")).toContain(
      '"${MONKEYTOWN_POLICY_CONFIG:-$ROOT/policy/config/${stack}.json}"',
    );
  });

  it("each deployed stack has its policy config once the pack is in place", () => {
    if (!fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"))) {
      console.log(
        "policy/PulumiPolicy.yaml is not there yet: the per-stack config files are not checked",
      );
      return;
    }
    for (const stack of ["dev", ...DEPLOYED_STACKS]) {
      const file = path.join(ROOT, "policy", "config", `${stack}.json`);
      expect(fs.existsSync(file), file).toBe(true);
      expect(() => JSON.parse(fs.readFileSync(file, "utf8")) as unknown, file).not.toThrow();
    }
  });

  it("the Pulumi CLI is installed at the version the SDK is pinned to", () => {
    const action = fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8");
    expect(action).toContain(`require('./package.json').dependencies['@pulumi/pulumi']`);
    expect(action).toContain("pulumi-version: ${{ steps.version.outputs.pulumi }}");
  });
});
