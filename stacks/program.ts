/**
 * The stack composition: parsed config in, components out, stack outputs back. Every difference
 * between dev, staging and production comes from `Pulumi.<stack>.yaml`; nothing here branches on
 * the stack's name.
 */
import { execFileSync } from "child_process";
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, type LoadedConfig, type StackConfig } from "../config";
import { recoveryPlan, type RecoveryPlan } from "../config/recovery";
import { Alerts } from "../components/alerts";
import { Edge, type EdgeZoneArgs } from "../components/edge";
import { RepositorySettings } from "../components/repository";
import { ApiService } from "../components/api";
import { Registry } from "../components/registry";
import { Secrets, secretOutput, type SecretOutput } from "../components/secrets";
import { WebService } from "../components/web";
import { PART_OF } from "../components/args";
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

/** Public site URL: the edge domain when the edge is on, else the Ingress host. */
export function siteUrl(config: StackConfig): string | undefined {
  const host = config.edge.enabled ? config.edge.domain : config.web.host;
  if (host === undefined) return undefined;
  return `${config.environment.tls === "none" ? "http" : "https"}://${host}`;
}

/** cert-manager ClusterIssuer for the environment's TLS setting (`monkeytown:cluster.clusterIssuers`). */
export function clusterIssuer(config: StackConfig): string | undefined {
  const tls = config.environment.tls;
  return tls === "none" ? undefined : config.cluster.clusterIssuers[tls];
}

/** The Edge's zone arguments from the zone-owning stack's `edge` config (defaults: the Edge's). */
export function edgeZoneArgs(edge: StackConfig["edge"]): EdgeZoneArgs {
  const key = edge.userRateLimitKey?.split(":");
  return {
    plan: edge.plan!,
    hostnames: edge.zoneHostnames ?? [edge.domain!],
    advancedRateLimiting: edge.advancedRateLimiting,
    waf: edge.waf,
    apiRateLimitRequests: edge.apiRateLimitPerMinute,
    globalRateLimitRequests: edge.globalRateLimitPerMinute,
    userRateLimitRequests: edge.userRateLimitPerMinute,
    userKey: key ? (key[0] === "cookie" ? { cookie: key[1] } : { header: key[1] }) : undefined,
  };
}

/** Compose every component for one stack from its loaded configuration. */
export function compose(loaded: LoadedConfig): StackOutputs {
  const { config: c, secrets } = loaded;
  const env = c.environment;
  const protect = c.kubernetes.protect;

  const provider =
    c.kubernetes.mode === "render"
      ? new k8s.Provider("k8s", { renderYamlToDirectory: c.kubernetes.renderDir })
      : new k8s.Provider("k8s", { context: c.kubernetes.context, enableServerSideApply: true });

  const namespace = new k8s.core.v1.Namespace(
    "namespace",
    {
      metadata: {
        name: c.kubernetes.namespace,
        labels: {
          "app.kubernetes.io/part-of": PART_OF,
          // Kubernetes' own admission enforces the restricted Pod Security Standard here too.
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    },
    { provider, protect },
  );
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
  const repository =
    githubProvider && c.github.manageRepository
      ? new RepositorySettings(
          "repository",
          {
            repository: c.github.repository!,
            requiredApprovingReviewCount: c.github.requiredReviews,
            productionReviewers: {
              users: c.github.productionReviewerUserIds,
              teams: c.github.productionReviewerTeamIds,
            },
          },
          { provider: githubProvider, protect },
        )
      : undefined;

  // Images: referenced in dev, built from docker/ with docker-build and pinned by digest where
  // registry.push is on. Base images reach the Dockerfiles as build arguments only when configured,
  // so the Dockerfiles' public defaults stay the one place those are written.
  const tag = c.registry.push ? imageTag(c) : "unused";
  const { baseImages } = c.registry;
  const registryToken = secrets.registryToken as SecretOutput | undefined;
  const pullSecretWanted =
    c.secrets.delivery === "kubernetes" &&
    registryToken !== undefined &&
    c.registry.username !== undefined;
  const registry = new Registry(
    "registry",
    {
      server: c.registry.server,
      owner: c.registry.owner,
      tag,
      push: c.registry.push,
      username: c.registry.username,
      password: registryToken,
      pullSecretNamespace: pullSecretWanted ? ns : undefined,
      builder: c.registry.builder,
      store: c.registry.store,
      load: c.registry.load,
      platforms: c.registry.platforms,
      buildOnPreview: c.registry.buildOnPreview,
      images: {
        web: {
          ref: c.webImage,
          build: {
            context: "docker/web",
            dockerfile: "docker/Dockerfile.web",
            args: {
              ...(baseImages.nginx !== undefined ? { NGINX_IMAGE: baseImages.nginx } : {}),
              VITE_APP_NAME: env.appName,
              VITE_ENABLE_DEBUG: String(env.debug),
              VITE_BUILD_SOURCEMAP: String(env.sourceMaps),
              VITE_ENABLE_ANALYTICS: String(env.analytics),
            },
          },
        },
        api: {
          ref: c.apiImage,
          build: {
            context: "docker/api",
            dockerfile: "docker/Dockerfile.api",
            args: baseImages.node !== undefined ? { NODE_IMAGE: baseImages.node } : {},
          },
        },
      },
    },
    opts,
  );
  const pullSecrets = registry.pullSecretName ? [registry.pullSecretName] : undefined;

  // Application secrets: only from secret config, referenced by name from the workloads.
  const appEntries: Record<string, SecretOutput | undefined> = {
    JWT_SECRET: secrets.jwtSecret && secretOutput(secrets.jwtSecret),
  };
  if (secrets.sentryDsn) appEntries.SENTRY_DSN = secretOutput(secrets.sentryDsn);
  if (secrets.newRelicLicenseKey) {
    appEntries.NEW_RELIC_LICENSE_KEY = secretOutput(secrets.newRelicLicenseKey);
  }
  const githubTargets =
    c.secrets.githubEnvironment !== undefined && c.github.repository !== undefined
      ? [{ repository: c.github.repository, environment: c.secrets.githubEnvironment }]
      : [];
  const appSecrets = new Secrets(
    "app-secrets",
    {
      namespace: ns,
      secretName: "monkeytown-app",
      entries: appEntries,
      delivery: c.secrets.delivery,
      githubEnvironments: githubTargets,
    },
    {
      ...protectedOpts,
      providers: githubProvider ? { kubernetes: provider, github: githubProvider } : opts.providers,
      // Environment secrets need their environment to exist first.
      dependsOn: repository ? [repository] : [],
    },
  );

  const url = siteUrl(c);
  // Validated with the config: every target can be met.
  const recovery = recoveryPlan(c);
  if (!recovery.ok) throw new pulumi.RunError(`monkeytown:recovery.${recovery.key} cannot be met`);
  const probes = recovery.plan.probes;
  const api = new ApiService(
    API_NAME,
    {
      namespace: ns,
      image: registry.imageRefs.api,
      port: c.api.port,
      replicas: c.api.autoscaling ? undefined : c.api.replicas,
      autoscaling: c.api.autoscaling,
      resources: c.api.resources,
      probes,
      env: {
        NODE_ENV: env.nodeEnv,
        APP_NAME: env.appName,
        ...(url !== undefined ? { APP_URL: url } : {}),
        API_BASE_PATH: c.api.basePath,
        ENABLE_DEBUG: String(env.debug),
        ENABLE_ANALYTICS: String(env.analytics),
        LOG_LEVEL: env.debug ? "debug" : "info",
        ...c.api.env,
      },
      secretEnv: appSecrets.ref,
      blueGreen:
        c.api.strategy === "blue-green"
          ? {
              activeColor: c.api.activeColor,
              images: { blue: c.api.blueImage, green: c.api.greenImage },
            }
          : undefined,
      imagePullSecrets: pullSecrets,
      ingressNamespace: c.cluster.ingressNamespace,
      monitoringNamespace: c.cluster.monitoringNamespace,
    },
    opts,
  );

  const web = new WebService(
    "web",
    {
      namespace: ns,
      image: registry.imageRefs.web,
      replicas: c.web.replicas,
      port: c.web.port,
      resources: c.web.resources,
      probes,
      imagePullSecrets: pullSecrets,
      ingressNamespace: c.cluster.ingressNamespace,
      ingress:
        c.web.host !== undefined
          ? {
              host: c.web.host,
              className: c.web.ingressClassName,
              clusterIssuer: clusterIssuer(c),
              routes: [
                { path: "/api", serviceName: api.serviceName, servicePort: api.servicePort },
                { path: "/ws", serviceName: api.serviceName, servicePort: api.servicePort },
              ],
            }
          : undefined,
    },
    opts,
  );

  if (c.alerts.enabled) {
    const alertEntries: Record<string, SecretOutput | undefined> = {
      WEBHOOK_URL: secrets.alertWebhookUrl && secretOutput(secrets.alertWebhookUrl),
    };
    if (c.alerts.email?.username !== undefined && secrets.smtpPassword) {
      alertEntries.SMTP_PASSWORD = secretOutput(secrets.smtpPassword);
    }
    const alertSecrets = new Secrets(
      "alert-secrets",
      {
        namespace: ns,
        secretName: "monkeytown-alerting",
        entries: alertEntries,
        delivery: c.secrets.delivery,
      },
      protectedOpts,
    );
    new Alerts(
      "alerts",
      {
        namespace: ns,
        apiSelectorLabels: api.serviceLabels,
        hpaName: api.autoscalerName,
        thresholds: c.alerts.thresholds,
        operatorLabels: c.cluster.monitoringLabels,
        critical: {
          kind: c.alerts.webhookKind,
          urlSecret: { name: alertSecrets.ref.name, key: "WEBHOOK_URL" },
        },
        warningDigest: c.alerts.email
          ? {
              to: c.alerts.email.to,
              from: c.alerts.email.from,
              smarthost: c.alerts.email.smarthost,
              authUsername: alertEntries.SMTP_PASSWORD ? c.alerts.email.username : undefined,
              authPassword: alertEntries.SMTP_PASSWORD
                ? { name: alertSecrets.ref.name, key: "SMTP_PASSWORD" }
                : undefined,
            }
          : undefined,
      },
      opts,
    );
  }

  if (c.edge.enabled) {
    const cf = new cloudflare.Provider("cloudflare", { apiToken: secrets.cloudflareApiToken });
    // Every stack behind the edge owns its DNS record; the zone's settings and rulesets belong to
    // the one stack with edge.manageZone, whose rules cover every hostname in edge.zoneHostnames.
    new Edge(
      "edge",
      {
        zoneId: c.edge.zoneId!,
        records: [{ hostname: c.edge.domain!, target: c.edge.origin!, type: "CNAME" }],
        zone: c.edge.manageZone ? edgeZoneArgs(c.edge) : undefined,
      },
      { provider: cf, protect },
    );
  }

  return {
    environment: env,
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
