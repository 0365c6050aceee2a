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
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { completeClusterLookup, useClusterLookup, type ClusterLookup } from "../stacks/preflight";

export interface RecordedResource {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  /** Logical name given to the constructor. */
  readonly name: string;
  /** Inputs with secret markers removed (secret values shown as their plain value), for assertions. */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Inputs exactly as the engine receives them: secret values still wrapped in secret markers. */
  readonly rawInputs: Record<string, unknown>;
  /** Outputs the mock provider reported (the inputs plus what it invents, e.g. an image's digest). */
  readonly outputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
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
  /**
   * What the program's cluster preflight sees (cluster-mode stacks); never a real cluster here.
   * @default a cluster with every prerequisite installed (`completeClusterLookup`)
   */
  readonly clusterLookup?: ClusterLookup;
}

export interface Harness {
  /** Every resource registered so far, in registration order. */
  readonly resources: RecordedResource[];
  /** Wait until the program has no outstanding registrations. */
  settle(): Promise<void>;
  /**
   * Run a program the way the engine does, inside the root `pulumi:pulumi:Stack` resource, and
   * resolve its stack outputs. Resources it creates are also tracked for `isProtected`.
   */
  runAsStack<T>(program: () => Promise<T>): Promise<Record<string, unknown>>;
  /** Whether the resource of this type and name ended up protected (own or inherited `protect`). */
  isProtected(type: string, name: string): boolean;
  /** The resource options the resource of this type and name was constructed with (inside runAsStack). */
  optionsOf(type: string, name: string): pulumi.ResourceOptions;
  /** Resources of one type token. */
  byType(type: string): RecordedResource[];
  /** The one resource with this type and name; throws listing what exists otherwise. */
  one(type: string, name: string): RecordedResource;
  /** Like `one`, but undefined when absent. */
  find(type: string, name: string): RecordedResource | undefined;
  /**
   * Every registered input serialized with secret-marked values replaced by "[secret]": what would
   * be readable in plaintext. "This secret appears nowhere" assertions search this.
   */
  dump(): string;
}

/**
 * Output values the mock provider invents for a resource, so dependents see realistic outputs.
 * A docker-build Image pushed in an update reports the digest of what it pushed (derived from its
 * tags, build args and platforms, so two images never share one); in a preview it pushes nothing
 * and reports none, as docker-build does.
 */
function mockOutputs(
  args: pulumi.runtime.MockResourceArgs,
  preview: boolean,
): Record<string, unknown> {
  const outputs: Record<string, unknown> = { ...args.inputs };
  if (args.type === "docker-build:index:Image" && !preview) {
    const { tags, buildArgs, platforms } = args.inputs;
    const digest = `sha256:${createHash("sha256").update(JSON.stringify({ tags, buildArgs, platforms })).digest("hex")}`;
    outputs.digest = digest;
    outputs.ref = `${String((tags as string[] | undefined)?.[0] ?? args.name)}@${digest}`;
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
  useClusterLookup(opts.clusterLookup ?? completeClusterLookup);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = reveal(args.inputs) as Record<string, unknown>;
        const outputs = mockOutputs({ ...args, inputs }, opts.preview ?? false);
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          rawInputs: args.inputs,
          outputs,
          urn: `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`,
          provider: args.provider,
          custom: args.custom ?? true,
        });
        return { id: `${args.name}-id`, state: outputs };
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

  const constructed: {
    type: string;
    name: string;
    resource: pulumi.Resource;
    opts: pulumi.ResourceOptions;
  }[] = [];
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
    async runAsStack(program) {
      const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((args) => {
          constructed.push({
            type: args.type,
            name: args.name,
            resource: args.resource,
            opts: args.opts,
          });
          return undefined;
        });
        return program();
      });
      return (outputs ?? {}) as Record<string, unknown>;
    },
    optionsOf(type, name) {
      const found = constructed.find((c) => c.type === type && c.name === name);
      if (!found) throw new Error(`No ${type} named ${name} was constructed inside runAsStack`);
      return found.opts;
    },
    isProtected(type, name) {
      const found = constructed.find((c) => c.type === type && c.name === name);
      if (!found) throw new Error(`No ${type} named ${name} was constructed inside runAsStack`);
      // The SDK keeps the resolved (own or inherited) protect flag on the resource.
      return (found.resource as unknown as { __protect?: boolean }).__protect === true;
    },
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
      return JSON.stringify(
        resources.map((r) => ({ type: r.type, name: r.name, inputs: redact(r.rawInputs) })),
      );
    },
  };
}

/** The SDK's wire markers for a secret value: `{ [SIG_KEY]: SECRET_SIG, value }`. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretMarker(v: unknown): v is { value: unknown } {
  return (
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

function mapValues(v: unknown, onSecret: (inner: unknown) => unknown): unknown {
  if (isSecretMarker(v)) return onSecret(v.value);
  if (Array.isArray(v)) return v.map((x) => mapValues(x, onSecret));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapValues(x, onSecret)]));
  }
  return v;
}

/** Remove secret markers, keeping the values (for asserting what a resource received). */
export function reveal(v: unknown): unknown {
  return mapValues(v, (inner) => reveal(inner));
}

/** Replace secret-marked values by "[secret]" (what a reader of plaintext would see). */
export function redact(v: unknown): unknown {
  return mapValues(v, () => "[secret]");
}

/** Resolve an Output in a test (unknowns resolve to undefined). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
