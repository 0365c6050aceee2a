/**
 * The stack composition: parsed config in, components out, stack outputs back. Every difference
 * between dev, staging and production comes from `Pulumi.<stack>.yaml`; nothing here branches on
 * the stack's name. Each component's arguments come from a pure builder in ./builders.ts; this file
 * creates the resources and wires one's outputs into the next.
 */
import { execFileSync } from "child_process";
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, type LoadedConfig, type StackConfig } from "../config";
import { recoveryPlan, type RecoveryPlan } from "../config/recovery";
import { Alerts } from "../components/alerts";
import { Edge } from "../components/edge";
import { RepositorySettings } from "../components/repository";
import { ApiService } from "../components/api";
import { Registry } from "../components/registry";
import { Secrets } from "../components/secrets";
import { WebService } from "../components/web";
import {
  alertSecretsArgs,
  alertsArgs,
  apiArgs,
  appSecretsArgs,
  edgeArgs,
  kubernetesProviderArgs,
  namespaceArgs,
  registryArgs,
  repositoryArgs,
  siteUrl,
  webArgs,
} from "./builders";
import { API_NAME, clusterPreflight, type ClusterLookup } from "./preflight";

/** What `pulumi stack output` shows. */
export interface StackOutputs {
  readonly environment: StackConfig["environment"];
  readonly namespace: pulumi.Output<string>;
  readonly webUrl: pulumi.Output<string>;
  readonly apiUrl: pulumi.Output<string>;
  /** What serves: the web image, and the API image that takes the traffic (blue-green: the active colour's). */
  readonly images: { readonly web: pulumi.Output<string>; readonly api: pulumi.Output<string> };
  /** Blue-green: the colour the API Service sends traffic to. */
  readonly apiActiveColor?: string;
  /**
   * Blue-green: the image each colour runs, the record scripts/blue-green.sh pins the config from
   * (the idle colour's is the instant rollback target).
   */
  readonly apiColorImages?: {
    readonly blue: pulumi.Output<string>;
    readonly green: pulumi.Output<string>;
  };
  readonly renderedManifestsDir?: string;
  readonly appSecretName: pulumi.Output<string>;
  /**
   * The recovery plan (architecture seed §9.1): probe timings, the worst case of a crash, a hang and
   * a failed deploy, and the deploy health check's budget, which scripts/health-check.sh reads.
   */
  readonly recovery: RecoveryPlan;
}

/** The git commit the images are tagged with (12 characters), unless config pins a tag. */
export function imageTag(config: StackConfig): string {
  if (config.registry.tag !== undefined) return config.registry.tag;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    throw new pulumi.RunError(
      "monkeytown:registry.tag is unset and the git commit cannot be read: run from a git checkout, or set `pulumi config set --path monkeytown:registry.tag <tag>`.",
    );
  }
}

/** Compose every component for one stack from its loaded configuration. */
export function compose(loaded: LoadedConfig): StackOutputs {
  const { config: c, secrets } = loaded;
  const protect = c.kubernetes.protect;
  // Validated with the config: every target can be met.
  const recovery = recoveryPlan(c);
  if (!recovery.ok) throw new pulumi.RunError(`monkeytown:recovery.${recovery.key} cannot be met`);
  const probes = recovery.plan.probes;

  const provider = new k8s.Provider("k8s", kubernetesProviderArgs(c));
  const namespace = new k8s.core.v1.Namespace("namespace", namespaceArgs(c), { provider, protect });
  const ns = namespace.metadata.name;
  // Workloads are cattle: a replaced Deployment heals itself. What would hurt to lose (the
  // namespace and everything in it, secrets, DNS and the repository's merge gate) is protected
  // where the stack file says so.
  const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: provider } };
  const protectedOpts: pulumi.ComponentResourceOptions = { ...opts, protect };
  const githubProvider = c.github.enabled
    ? new github.Provider("github", { owner: c.github.owner, token: secrets.githubToken })
    : undefined;

  // The repository's merge gate and deployment environments: owned by one stack (production).
  const repositorySettings = repositoryArgs(c);
  const repository =
    githubProvider && repositorySettings
      ? new RepositorySettings("repository", repositorySettings, {
          provider: githubProvider,
          protect,
        })
      : undefined;

  const registry = new Registry(
    "registry",
    registryArgs(c, {
      tag: c.registry.push ? imageTag(c) : "unused",
      password: secrets.registryToken,
      namespace: ns,
    }),
    opts,
  );
  const imagePullSecrets = registry.pullSecretName ? [registry.pullSecretName] : undefined;

  const appSecrets = new Secrets("app-secrets", appSecretsArgs(c, secrets, ns), {
    ...protectedOpts,
    providers: githubProvider ? { kubernetes: provider, github: githubProvider } : opts.providers,
    // Environment secrets need their environment to exist first.
    dependsOn: repository ? [repository] : [],
  });

  const workload = { namespace: ns, probes, imagePullSecrets };
  const api = new ApiService(
    API_NAME,
    apiArgs(c, { ...workload, image: registry.imageRefs.api, secretEnv: appSecrets.ref }),
    opts,
  );
  const web = new WebService(
    "web",
    webArgs(c, { ...workload, image: registry.imageRefs.web, api }),
    opts,
  );

  if (c.alerts.enabled) {
    const alertSecrets = new Secrets(
      "alert-secrets",
      alertSecretsArgs(c, secrets, ns),
      protectedOpts,
    );
    new Alerts(
      "alerts",
      alertsArgs(c, secrets, { namespace: ns, api, secretName: alertSecrets.ref.name }),
      opts,
    );
  }

  if (c.edge.enabled) {
    const cf = new cloudflare.Provider("cloudflare", { apiToken: secrets.cloudflareApiToken });
    new Edge("edge", edgeArgs(c.edge), { provider: cf, protect });
  }

  const url = siteUrl(c);
  return {
    environment: c.environment,
    namespace: ns,
    webUrl: url !== undefined ? pulumi.output(url) : web.url,
    apiUrl: url !== undefined ? pulumi.output(`${url}${c.api.basePath}`) : api.url,
    images: { web: registry.imageRefs.web, api: api.servingImage },
    ...(api.colorImages
      ? { apiActiveColor: c.api.activeColor, apiColorImages: api.colorImages }
      : {}),
    ...(c.kubernetes.mode === "render" ? { renderedManifestsDir: c.kubernetes.renderDir } : {}),
    appSecretName: pulumi.output(appSecrets.ref.name),
    recovery: recovery.plan,
  };
}

export interface ProgramOptions {
  /** Answers the cluster preflight's questions. @default kubectl with the stack's kubeconfig and context */
  readonly clusterLookup?: ClusterLookup;
}

/**
 * Entry point: validate the config, check the cluster's prerequisites (cluster mode), then compose.
 * A config error or a missing prerequisite registers nothing.
 */
export async function program(opts: ProgramOptions = {}): Promise<StackOutputs> {
  const loaded = await loadStackConfig();
  await clusterPreflight(loaded.config, loaded.stack, opts.clusterLookup);
  return compose(loaded);
}
