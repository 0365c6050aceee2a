/**
 * Secrets and bad configuration on the real engine (issue 4, integration tests 6 and 7), on one dev
 * stack in its own temporary backend:
 *   6. a value set with `pulumi config set --secret` appears nowhere in plaintext: not in the
 *      exported state, the rendered manifests, the stack file, or the engine's output and events
 *   7. a bad config value stops the run with the config's message, creates nothing and leaves the
 *      state (and the rendered files) as they were
 */
import * as fs from "fs";
import * as path from "path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ENGINE_TIMEOUT_MS,
  EventLog,
  Sandbox,
  listFiles,
  openStack,
  reportSkip,
  toolchain,
  treeDigest,
  policyArgsFor,
} from "./harness";

reportSkip("config-secrets");

const STACK = "dev";
/** At least 32 characters (config/secrets.ts), and unlike anything the program writes itself. */
const SENTINEL = "sentinel-5f3c9a1e-jwt-never-in-plaintext-7b2d";

describe.skipIf(!toolchain.ready)("secrets and bad config on the real engine", () => {
  let sandbox: Sandbox;
  let workDir: string;
  let renderDir: string;
  let stack: Stack;
  let policyArgs: { policyPacks: string[]; policyPackConfigs: string[] };
  let up: UpResult;
  const upLog = new EventLog();
  const upOutput: string[] = [];

  beforeAll(async () => {
    sandbox = new Sandbox("secrets");
    workDir = sandbox.copyRepo();
    renderDir = path.join(workDir, "rendered", STACK);
    stack = await openStack(sandbox, workDir, STACK);
    policyArgs = policyArgsFor(workDir, STACK);
    // `pulumi config set --secret monkeytown:jwtSecret <sentinel>` through the Automation API.
    await stack.setConfig("monkeytown:jwtSecret", { value: SENTINEL, secret: true });
    up = await stack.up({
      ...policyArgs,
      onEvent: upLog.onEvent,
      onOutput: (o) => upOutput.push(o),
    });
  }, ENGINE_TIMEOUT_MS);

  afterAll(() => sandbox?.remove());

  it(
    "6. the secret is set and decryptable, and appears nowhere in plaintext",
    async () => {
      expect(up.summary.result).toBe("succeeded");
      // Positive control: the engine holds the value (encrypted) and gives it back on request.
      const cfg = await stack.getConfig("monkeytown:jwtSecret");
      expect(cfg).toEqual({ value: SENTINEL, secret: true });
      const stackFile = fs.readFileSync(path.join(workDir, `Pulumi.${STACK}.yaml`), "utf8");
      expect(stackFile).toMatch(/monkeytown:jwtSecret:\s*\n\s*secure: v1:/);

      const places: Record<string, string> = {
        "stack file": stackFile,
        "exported state": JSON.stringify(await stack.exportStack()),
        "up stdout": up.stdout,
        "up stderr": up.stderr,
        "up streamed output": upOutput.join(""),
        "engine events": JSON.stringify(upLog.events),
        "stack outputs": JSON.stringify(await stack.outputs()),
      };
      const rendered = listFiles(renderDir);
      expect(rendered.length).toBeGreaterThan(0);
      for (const rel of rendered)
        places[`rendered ${rel}`] = fs.readFileSync(path.join(renderDir, rel), "utf8");
      const leaks = Object.entries(places)
        .filter(([, text]) => text.includes(SENTINEL))
        .map(([where]) => where);
      expect(leaks).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );

  it(
    "7. a bad config value stops the run with the config's message and changes nothing",
    async () => {
      const stateBefore = await stack.exportStack();
      const renderedBefore = treeDigest(renderDir);
      expect(Object.keys(renderedBefore).length).toBeGreaterThan(0);

      await stack.setConfig("monkeytown:web.replicas", { value: "lots" }, true);
      const log = new EventLog();
      let failure: unknown;
      try {
        await stack.up({ ...policyArgs, onEvent: log.onEvent });
      } catch (e) {
        failure = e;
      } finally {
        await stack.setConfig("monkeytown:web.replicas", { value: "1" }, true);
      }
      expect(failure, "up with web.replicas = lots must fail").toBeInstanceOf(Error);
      const message = String((failure as Error).message);
      expect(message).toContain(
        'Invalid configuration in Pulumi.dev.yaml (stack "dev"): 1 problem; nothing was created.',
      );
      expect(message).toContain("monkeytown:web.replicas: expected a number, got a string");
      expect(message).not.toContain(SENTINEL);

      expect(log.changes()).toEqual([]);
      const stateAfter = await stack.exportStack();
      const resources = (s: typeof stateBefore) =>
        (s.deployment as { resources?: unknown[] }).resources ?? [];
      expect(resources(stateAfter)).toEqual(resources(stateBefore));
      expect(treeDigest(renderDir)).toEqual(renderedBefore);
    },
    ENGINE_TIMEOUT_MS,
  );
});
