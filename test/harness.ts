/**
 * The one mock harness. It records every resource the program registers (`type`, `name`, resolved
 * `inputs`, `urn`, `parent`, `provider`, `protect`) and fails loudly on any invoke it does not know,
 * so a surprise data-source call cannot slip into a unit test.
 *
 * Use it before importing the code under test:
 *
 *   const h = await installMocks({ config: {...}, secretKeys: [...] });
 *   const { WebService } = await import("../components/web");
 *   new WebService("web", {...});
 *   await h.settle();
 *   expect(h.one("kubernetes:apps/v1:Deployment", "web-deployment").inputs.spec...)
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  /** Logical name given to the constructor. */
  readonly name: string;
  /** Inputs as the engine receives them (secrets unwrapped to plain values by the mock monitor). */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly urn: string;
  /** Custom resources only: the provider reference, when one was passed. */
  readonly provider?: string;
  /** Whether the resource is a component (not sent to a provider). */
  readonly custom: boolean;
}

export interface MockOptions {
  /** Project name for URNs and config namespaces. @default "monkeytown" */
  readonly project?: string;
  /** Stack name. @default "test" */
  readonly stack?: string;
  /** Flat config, `"<namespace>:<key>" -> string` (objects as JSON), as `pulumi config` stores it. */
  readonly config?: Record<string, string>;
  /** Config keys whose values are secrets (`requireSecret` must be used for them). */
  readonly secretKeys?: readonly string[];
  /** Run as a preview (unknown outputs stay unknown). @default false */
  readonly preview?: boolean;
}

export interface Harness {
  /** Every resource registered so far, in registration order. */
  readonly resources: RecordedResource[];
  /** Wait until the program has no outstanding registrations. */
  settle(): Promise<void>;
  /** Resources of one type token. */
  byType(type: string): RecordedResource[];
  /** The one resource with this type and name; throws listing what exists otherwise. */
  one(type: string, name: string): RecordedResource;
  /** Like `one`, but undefined when absent. */
  find(type: string, name: string): RecordedResource | undefined;
  /** All registered inputs serialized, for "this secret appears nowhere" assertions. */
  dump(): string;
}

/** Output values the mock provider invents for a resource, so dependents see realistic outputs. */
function mockOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const outputs: Record<string, unknown> = { ...args.inputs };
  if (args.type === "docker:index/image:Image") {
    const imageName = String(args.inputs.imageName ?? "image");
    const repo = imageName.replace(/:[^/:]+$/, "");
    outputs.repoDigest = `${repo}@sha256:${"0".repeat(63)}1`;
  }
  if (args.type.startsWith("kubernetes:") && args.inputs.metadata) {
    outputs.metadata = { ...args.inputs.metadata, name: args.inputs.metadata.name ?? args.name };
  }
  return outputs;
}

/** Install mocks and config. Call before importing anything that registers resources. */
export async function installMocks(opts: MockOptions = {}): Promise<Harness> {
  const resources: RecordedResource[] = [];
  const project = opts.project ?? "monkeytown";
  const stack = opts.stack ?? "test";

  pulumi.runtime.setAllConfig(opts.config ?? {}, [...(opts.secretKeys ?? [])]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          urn: `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`,
          provider: args.provider,
          custom: args.custom ?? true,
        });
        return { id: `${args.name}-id`, state: mockOutputs(args) };
      },
      call(args) {
        throw new Error(
          `Unexpected invoke ${args.token} in a unit test: mock it in test/harness.ts if it is intended.`,
        );
      },
    },
    project,
    stack,
    opts.preview ?? false,
  );

  const byType = (type: string) => resources.filter((r) => r.type === type);
  const find = (type: string, name: string) =>
    resources.find((r) => r.type === type && r.name === name);
  return {
    resources,
    async settle() {
      // The SDK tracks every outstanding RPC; wait for the queue to drain, twice, since a
      // registration can resolve inputs that trigger more registrations.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const settings = require("@pulumi/pulumi/runtime/settings") as {
        waitForRPCs(): Promise<void>;
      };
      for (let i = 0; i < 3; i++) {
        await settings.waitForRPCs();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    byType,
    find,
    one(type: string, name: string) {
      const found = find(type, name);
      if (!found) {
        const names = byType(type).map((r) => r.name);
        throw new Error(
          `No ${type} named ${name}; registered of that type: ${names.join(", ") || "(none)"}`,
        );
      }
      return found;
    },
    dump() {
      return JSON.stringify(resources);
    },
  };
}

/** Resolve an Output in a test (unknowns resolve to undefined). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
