/**
 * The policy pack on the real engine (issue 4, integration test 5): `pulumi preview` of the
 * deliberately insecure program in test/fixtures/insecure with `--policy-pack policy` fails and
 * names each mandatory violation; advisory violations are reported and do not fail a preview.
 *
 * The expected violations are the ones test/fixtures/insecure/insecure.test.ts lists for the pack's
 * default config (read from that file, so both tests hold the program to one list): the engine must
 * report exactly those, no more and no fewer.
 */
import * as fs from "fs";
import * as path from "path";
import type { PreviewResult, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ENGINE_TIMEOUT_MS,
  EventLog,
  REPO_ROOT,
  Sandbox,
  openStack,
  reportSkip,
  toolchain,
} from "./harness";

reportSkip("policy-insecure");

const FIXTURE = path.join(REPO_ROOT, "test", "fixtures", "insecure");
const EXPECTATIONS_TITLE = "gets exactly the expected violations under the default config";

/** The sorted "policy resource level" list of insecure.test.ts's default-config test. */
function expectedViolations(): string[] {
  const source = fs.readFileSync(path.join(FIXTURE, "insecure.test.ts"), "utf8");
  const at = source.indexOf(EXPECTATIONS_TITLE);
  if (at < 0) throw new Error(`insecure.test.ts no longer has the test "${EXPECTATIONS_TITLE}"`);
  const list = source.slice(at).match(/toEqual\(\[([^\]]*)\]\)/);
  if (!list)
    throw new Error(`no toEqual([...]) list after "${EXPECTATIONS_TITLE}" in insecure.test.ts`);
  return [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
}

/** Policy events as "policy resource level" (the shape of insecure.test.ts), sorted. */
function reported(log: EventLog): string[] {
  return log.events
    .flatMap((e) => (e.policyEvent ? [e.policyEvent] : []))
    .map((p) => {
      const resource = p.resourceUrn
        ? p.resourceUrn.slice(p.resourceUrn.lastIndexOf("::") + 2)
        : "(stack)";
      const level = p.enforcementLevel === "warning" ? "advisory" : p.enforcementLevel;
      return `${p.policyName} ${resource} ${level}`;
    })
    .sort();
}

describe.skipIf(!toolchain.ready)(
  "the insecure fixture under the policy pack on the real engine",
  () => {
    let sandbox: Sandbox;
    let workDir: string;
    let stack: Stack;
    const expected = expectedViolations();

    beforeAll(async () => {
      sandbox = new Sandbox("insecure");
      workDir = path.join(sandbox.dir, "insecure");
      fs.mkdirSync(workDir);
      for (const f of ["Pulumi.yaml", "index.ts"])
        fs.copyFileSync(path.join(FIXTURE, f), path.join(workDir, f));
      fs.symlinkSync(
        path.join(REPO_ROOT, "node_modules"),
        path.join(workDir, "node_modules"),
        "dir",
      );
      stack = await openStack(sandbox, workDir, "test");
      // The default Kubernetes provider renders (no cluster here), as dev does.
      await stack.setConfig("kubernetes:renderYamlToDirectory", {
        value: path.join(sandbox.dir, "rendered"),
      });
    }, ENGINE_TIMEOUT_MS);

    afterAll(() => sandbox?.remove());

    it("the expectations list is there to check against", () => {
      expect(expected.length).toBeGreaterThan(10);
      expect(expected.some((v) => v.endsWith(" mandatory"))).toBe(true);
      expect(expected.some((v) => v.endsWith(" advisory"))).toBe(true);
    });

    it(
      "5a. preview fails, naming each mandatory violation; advisory ones are reported too",
      async () => {
        const log = new EventLog();
        let failure: unknown;
        let result: PreviewResult | undefined;
        try {
          result = await stack.preview({
            policyPacks: [path.join(REPO_ROOT, "policy")],
            onEvent: log.onEvent,
          });
        } catch (e) {
          failure = e;
        }
        expect(result, "preview must fail on mandatory violations").toBeUndefined();
        expect(failure).toBeInstanceOf(Error);
        expect(reported(log)).toEqual(expected);

        // The CLI's own output names each mandatory violation (policy and resource).
        const output = String((failure as Error).message);
        for (const v of expected.filter((x) => x.endsWith(" mandatory"))) {
          const [policy, resource] = v.split(" ");
          const line = output
            .split("\n")
            .find((l) => l.includes("[mandatory]") && l.includes(policy) && l.includes(resource));
          expect(
            line,
            `no "[mandatory] ... ${policy} ... ${resource}" line in the preview output`,
          ).toBeDefined();
        }
        expect(output).toContain("[advisory]");
      },
      ENGINE_TIMEOUT_MS,
    );

    it(
      "5b. advisory violations alone do not fail a preview",
      async () => {
        // The policies that were mandatory violations set to advisory: the same findings, all reported
        // as advisory, and the preview succeeds.
        const mandatoryPolicies = expected
          .filter((v) => v.endsWith(" mandatory"))
          .map((v) => v.split(" ")[0]);
        const allAdvisory = path.join(sandbox.dir, "advisory.json");
        fs.writeFileSync(
          allAdvisory,
          JSON.stringify(Object.fromEntries(mandatoryPolicies.map((p) => [p, "advisory"]))),
        );
        const log = new EventLog();
        const result = await stack.preview({
          policyPacks: [path.join(REPO_ROOT, "policy")],
          policyPackConfigs: [allAdvisory],
          onEvent: log.onEvent,
        });
        expect(result.stdout).toContain("[advisory]");
        expect(reported(log)).toEqual(
          expected.map((v) => v.replace(/ mandatory$/, " advisory")).sort(),
        );
      },
      ENGINE_TIMEOUT_MS,
    );
  },
);
