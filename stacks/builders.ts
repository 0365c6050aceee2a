/**
 * Each component's arguments from the parsed stack config: the pure half of the composition
 * (stacks/program.ts creates the resources). No builder registers anything or reads config, so
 * stacks/builders.test.ts checks what each returns for dev, staging and production without mocks.
 * What another resource makes (the namespace's name, an image reference, the API's Service) comes in
 * as a parameter.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { EnabledEdgeConfig, StackConfig, StackSecrets, ZoneOwnerEdgeConfig } from "../config";
import type { ProbeTimings } from "../components/k8s/recovery";
import type { PodPlacement } from "../components/k8s";
import type { AlertsArgs } from "../components/alerts";
import type { ApiServiceArgs } from "../components/api";
import type { EdgeArgs, EdgeZoneArgs } from "../components/edge";
import type { RegistryArgs } from "../components/registry";
import type { RepositorySettingsArgs } from "../components/repository";
import type { SecretOutput, SecretReference, SecretsArgs } from "../components/secrets";
import type { WebServiceArgs } from "../components/web";
import { PART_OF } from "../components/args";

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

/** Where the web and API pods run (`monkeytown:cluster.nodeSelector`, `.tolerations`). */
export function placement(config: StackConfig): PodPlacement {
  return { nodeSelector: config.cluster.nodeSelector, tolerations: config.cluster.tolerations };
}

/** The Kubernetes provider: render to a folder, or apply to the kubeconfig's cluster. */
export function kubernetesProviderArgs(config: StackConfig): k8s.ProviderArgs {
  const kube = config.kubernetes;
  return kube.mode === "render"
    ? { renderYamlToDirectory: kube.renderDir }
    : { context: kube.context, enableServerSideApply: true };
}

/** The namespace every workload lives in. */
export function namespaceArgs(config: StackConfig): k8s.core.v1.NamespaceArgs {
  return {
    metadata: {
      name: config.kubernetes.namespace,
      labels: {
        "app.kubernetes.io/part-of": PART_OF,
        // Kubernetes' own admission enforces the restricted Pod Security Standard here too.
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    },
  };
}

/** The repository's merge gate and environments, for the one stack that manages them (production). */
export function repositoryArgs(config: StackConfig): RepositorySettingsArgs | undefined {
  const gh = config.github;
  if (!gh.enabled || !gh.manageRepository) return undefined;
  return {
    repository: gh.repository,
    requiredApprovingReviewCount: gh.requiredReviews,
    productionReviewers: {
      users: gh.productionReviewerUserIds,
      teams: gh.productionReviewerTeamIds,
    },
  };
}

/**
 * Images: referenced where `registry.push` is off, built from docker/ with docker-build and pinned by
 * digest where it is on. Base images reach the Dockerfiles as build arguments only when configured,
 * so the Dockerfiles' public defaults stay the one place those are written. The pull Secret goes to
 * `namespace` when the stack delivers secrets to the cluster and has registry credentials.
 */
export function registryArgs(
  config: StackConfig,
  inputs: {
    /** Tag of built images (the git commit, or `registry.tag`). */
    readonly tag: string;
    readonly password: SecretOutput | undefined;
    readonly namespace: pulumi.Input<string>;
  },
): RegistryArgs {
  const { registry, environment: env } = config;
  const { baseImages } = registry;
  const pullSecretWanted =
    config.secrets.delivery === "kubernetes" &&
    inputs.password !== undefined &&
    registry.username !== undefined;
  return {
    server: registry.server,
    owner: registry.owner,
    tag: inputs.tag,
    push: registry.push,
    username: registry.username,
    password: inputs.password,
    pullSecretNamespace: pullSecretWanted ? inputs.namespace : undefined,
    builder: registry.builder,
    store: registry.store,
    load: registry.load,
    platforms: registry.platforms,
    buildOnPreview: registry.buildOnPreview,
    images: {
      web: {
        ref: config.webImage,
        build: {
          context: "docker/web",
          dockerfile: "docker/Dockerfile.web",
          args: {
            ...(baseImages.nginx !== undefined ? { NGINX_IMAGE: baseImages.nginx } : {}),
            REVISION: inputs.tag,
            VITE_APP_NAME: env.appName,
            VITE_ENABLE_DEBUG: String(env.debug),
            VITE_BUILD_SOURCEMAP: String(env.sourceMaps),
            VITE_ENABLE_ANALYTICS: String(env.analytics),
          },
        },
      },
      api: {
        ref: config.apiImage,
        build: {
          context: "docker/api",
          dockerfile: "docker/Dockerfile.api",
          args: {
            ...(baseImages.node !== undefined ? { NODE_IMAGE: baseImages.node } : {}),
            REVISION: inputs.tag,
          },
        },
      },
    },
  };
}

/**
 * The application's secrets, from secret config only; workloads reference them by name. With
 * `secrets.githubEnvironment` the repository's Actions environment receives them too.
 */
export function appSecretsArgs(
  config: StackConfig,
  secrets: StackSecrets,
  namespace: pulumi.Input<string>,
): SecretsArgs {
  const entries: Record<string, SecretOutput | undefined> = { JWT_SECRET: secrets.jwtSecret };
  if (secrets.sentryDsn) entries.SENTRY_DSN = secrets.sentryDsn;
  if (secrets.newRelicLicenseKey) entries.NEW_RELIC_LICENSE_KEY = secrets.newRelicLicenseKey;
  const environment = config.secrets.githubEnvironment;
  return {
    namespace,
    secretName: "monkeytown-app",
    entries,
    delivery: config.secrets.delivery,
    githubEnvironments:
      config.github.enabled && environment !== undefined
        ? [{ repository: config.github.repository, environment }]
        : [],
  };
}

/** What the composition hands the workloads besides config. */
export interface WorkloadInputs {
  readonly namespace: pulumi.Input<string>;
  /** The image reference the Registry resolved (digest-pinned when built). */
  readonly image: pulumi.Input<string>;
  /** Probe timings of the stack's recovery plan (config/recovery.ts). */
  readonly probes: ProbeTimings;
  /** The registry's pull Secret, when there is one. */
  readonly imagePullSecrets?: pulumi.Input<string>[];
}

/** The API: the environment matrix's runtime settings as env, secrets by reference. */
export function apiArgs(
  config: StackConfig,
  inputs: WorkloadInputs & { readonly secretEnv: SecretReference },
): ApiServiceArgs {
  const { environment: env, api } = config;
  const url = siteUrl(config);
  return {
    namespace: inputs.namespace,
    image: inputs.image,
    port: api.port,
    replicas: api.autoscaling ? undefined : api.replicas,
    autoscaling: api.autoscaling,
    resources: api.resources,
    probes: inputs.probes,
    env: {
      NODE_ENV: env.nodeEnv,
      APP_NAME: env.appName,
      ...(url !== undefined ? { APP_URL: url } : {}),
      API_BASE_PATH: api.basePath,
      ENABLE_DEBUG: String(env.debug),
      ENABLE_ANALYTICS: String(env.analytics),
      LOG_LEVEL: env.debug ? "debug" : "info",
      ...api.env,
    },
    secretEnv: inputs.secretEnv,
    blueGreen:
      api.strategy === "blue-green"
        ? { activeColor: api.activeColor, images: { blue: api.blueImage, green: api.greenImage } }
        : undefined,
    imagePullSecrets: inputs.imagePullSecrets,
    placement: placement(config),
    rolloutTimeoutSeconds: config.recovery.rolloutTimeoutSeconds,
    ingressNamespace: config.cluster.ingressNamespace,
    monitoringNamespace: config.cluster.monitoringNamespace,
  };
}

/** The site: nginx with the SPA, and the Ingress that also routes `/api` and `/ws` to the API. */
export function webArgs(
  config: StackConfig,
  inputs: WorkloadInputs & {
    /** The API's Service (`ApiService.serviceName`, `servicePort`), behind `/api` and `/ws`. */
    readonly api: { readonly serviceName: pulumi.Input<string>; readonly servicePort: number };
  },
): WebServiceArgs {
  const { web } = config;
  const api = { serviceName: inputs.api.serviceName, servicePort: inputs.api.servicePort };
  return {
    namespace: inputs.namespace,
    image: inputs.image,
    replicas: web.replicas,
    port: web.port,
    resources: web.resources,
    probes: inputs.probes,
    imagePullSecrets: inputs.imagePullSecrets,
    placement: placement(config),
    rolloutTimeoutSeconds: config.recovery.rolloutTimeoutSeconds,
    ingressNamespace: config.cluster.ingressNamespace,
    ingress:
      web.host !== undefined
        ? {
            host: web.host,
            className: web.ingressClassName,
            clusterIssuer: clusterIssuer(config),
            routes: [
              { path: "/api", ...api },
              { path: "/ws", ...api },
            ],
          }
        : undefined,
  };
}

/** The SMTP relay authenticates: a user is configured and its password is in secret config. */
function smtpAuthenticates(config: StackConfig, secrets: StackSecrets): boolean {
  return config.alerts.email?.username !== undefined && secrets.smtpPassword !== undefined;
}

/** The alert routing's credentials: the chat webhook, and the SMTP password when it is used. */
export function alertSecretsArgs(
  config: StackConfig,
  secrets: StackSecrets,
  namespace: pulumi.Input<string>,
): SecretsArgs {
  const entries: Record<string, SecretOutput | undefined> = {
    WEBHOOK_URL: secrets.alertWebhookUrl,
  };
  if (smtpAuthenticates(config, secrets)) entries.SMTP_PASSWORD = secrets.smtpPassword;
  return {
    namespace,
    secretName: "monkeytown-alerting",
    entries,
    delivery: config.secrets.delivery,
  };
}

/**
 * The API's alerts: rules on its metrics, the ServiceMonitor that selects its Service, critical
 * alerts to chat and warnings to a mail digest, credentials by reference to `secretName` (the
 * Secret {@link alertSecretsArgs} describes).
 */
export function alertsArgs(
  config: StackConfig,
  secrets: StackSecrets,
  inputs: {
    readonly namespace: pulumi.Input<string>;
    /** The API's Service labels and HPA name (`ApiService.serviceLabels`, `autoscalerName`). */
    readonly api: {
      readonly serviceLabels: Readonly<Record<string, string>>;
      readonly autoscalerName?: pulumi.Input<string>;
    };
    readonly secretName: pulumi.Input<string>;
  },
): AlertsArgs {
  const { alerts } = config;
  const auth = smtpAuthenticates(config, secrets);
  return {
    namespace: inputs.namespace,
    apiSelectorLabels: inputs.api.serviceLabels,
    hpaName: inputs.api.autoscalerName,
    thresholds: alerts.thresholds,
    operatorLabels: config.cluster.monitoringLabels,
    critical: {
      kind: alerts.webhookKind,
      urlSecret: { name: inputs.secretName, key: "WEBHOOK_URL" },
    },
    warningDigest: alerts.email
      ? {
          to: alerts.email.to,
          from: alerts.email.from,
          smarthost: alerts.email.smarthost,
          authUsername: auth ? alerts.email.username : undefined,
          authPassword: auth ? { name: inputs.secretName, key: "SMTP_PASSWORD" } : undefined,
        }
      : undefined,
  };
}

/** The zone-owning stack's zone arguments; what its config leaves unset takes the Edge's defaults. */
export function edgeZoneArgs(edge: ZoneOwnerEdgeConfig): EdgeZoneArgs {
  const key = edge.userRateLimitKey?.split(":");
  return {
    plan: edge.plan,
    hostnames: edge.zoneHostnames,
    advancedRateLimiting: edge.advancedRateLimiting,
    waf: edge.waf,
    apiRateLimitRequests: edge.apiRateLimitPerMinute,
    globalRateLimitRequests: edge.globalRateLimitPerMinute,
    userRateLimitRequests: edge.userRateLimitPerMinute,
    userKey: key ? (key[0] === "cookie" ? { cookie: key[1] } : { header: key[1] }) : undefined,
  };
}

/**
 * The Cloudflare side: every stack behind the edge owns its DNS record; the zone's settings and
 * rulesets belong to the one stack with `edge.manageZone`, whose rules cover every hostname in
 * `edge.zoneHostnames`.
 */
export function edgeArgs(edge: EnabledEdgeConfig): EdgeArgs {
  return {
    zoneId: edge.zoneId,
    records: [{ hostname: edge.domain, target: edge.origin, type: "CNAME" }],
    zone: edge.manageZone ? edgeZoneArgs(edge) : undefined,
  };
}
