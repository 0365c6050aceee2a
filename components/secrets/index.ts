import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs, PKG } from "../args";
import { standardLabels } from "../k8s";

import type { SecretOutput } from "./output";

export { secretOutput, type SecretOutput } from "./output";

/** Where a workload finds a secret: the Secret's name and the keys it holds. */
export interface SecretReference {
  readonly name: pulumi.Input<string>;
  readonly keys: readonly string[];
}

/** A GitHub Actions environment that receives the same secrets. */
export interface GithubEnvironmentTarget {
  /** Repository name (without owner). */
  readonly repository: pulumi.Input<string>;
  /** Environment name, e.g. `staging`. */
  readonly environment: string;
}

export interface SecretsArgs {
  /** Namespace of the Kubernetes Secret. */
  readonly namespace: pulumi.Input<string>;
  /** Name of the Kubernetes Secret workloads reference. */
  readonly secretName: string;
  /**
   * Variables and their secret values. With `external` delivery a value may be undefined: the
   * key is still referenced, and the Secret is provisioned out of band.
   */
  readonly entries: Readonly<Record<string, SecretOutput | undefined>>;
  /**
   * `kubernetes`: create the Secret from the values. `external`: create nothing in the cluster
   * (render mode would write the values to disk in plaintext); workloads still reference it.
   */
  readonly delivery: "kubernetes" | "external";
  /** GitHub Actions environments that also receive every set value. @default [] */
  readonly githubEnvironments?: readonly GithubEnvironmentTarget[];
  /** Extra labels on the Secret. */
  readonly labels?: Record<string, string>;
}

/** The component's type token. */
export const SECRETS_TYPE = `${PKG}:secrets:Secrets`;

/** Every problem with the arguments, each naming the argument and the fix. */
export function validateSecretsArgs(args: SecretsArgs): string[] {
  const problems: string[] = [];
  const keys = Object.keys(args.entries);
  if (keys.length === 0) problems.push("`entries` is empty: give at least one variable.");
  for (const key of keys) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key))
      problems.push(`\`entries\` key "${key}" must be UPPER_SNAKE_CASE.`);
    if (args.delivery === "kubernetes" && args.entries[key] === undefined) {
      problems.push(
        `\`entries.${key}\` has no value but \`delivery\` is "kubernetes": set its secret config or use delivery "external".`,
      );
    }
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.secretName)) {
    problems.push(`\`secretName\` ("${args.secretName}") must be a lower-case RFC 1123 name.`);
  }
  return problems;
}

/**
 * The application's secrets, read only from Pulumi secret config and delivered as a Kubernetes
 * Secret (referenced by workloads through `ref`) and, optionally, as GitHub Actions environment
 * secrets for deployments. Values stay Pulumi secrets end to end: in state they are encrypted.
 */
export class Secrets extends pulumi.ComponentResource {
  /** What workloads put in `secretKeyRef`/`envFrom`. */
  public readonly ref: SecretReference;
  public readonly secret?: k8s.core.v1.Secret;
  public readonly githubSecrets: github.ActionsEnvironmentSecret[] = [];

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(SECRETS_TYPE, name, validateSecretsArgs(args));
    super(SECRETS_TYPE, name, {}, opts);

    const keys = Object.keys(args.entries).sort();
    const set = keys.filter((k) => args.entries[k] !== undefined);

    if (args.delivery === "kubernetes") {
      const stringData = pulumi.secret(
        pulumi.all(Object.fromEntries(set.map((k) => [k, args.entries[k]!]))),
      );
      this.secret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: {
            name: args.secretName,
            namespace: args.namespace,
            labels: standardLabels(args.secretName, "secrets", args.labels),
          },
          type: "Opaque",
          stringData,
        },
        { parent: this, additionalSecretOutputs: ["data", "stringData"] },
      );
    }

    for (const target of args.githubEnvironments ?? []) {
      for (const key of set) {
        this.githubSecrets.push(
          new github.ActionsEnvironmentSecret(
            `${name}-gh-${target.environment}-${key.toLowerCase()}`,
            {
              repository: target.repository,
              environment: target.environment,
              secretName: key,
              plaintextValue: pulumi.secret(args.entries[key]!),
            },
            { parent: this },
          ),
        );
      }
    }

    this.ref = {
      name: this.secret ? this.secret.metadata.name : args.secretName,
      keys,
    };
    this.registerOutputs({ secretName: this.ref.name, keys });
  }
}
