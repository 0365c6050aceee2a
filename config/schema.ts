/**
 * zod schemas for the stack configuration, one per concern, every object `.strict()` so a typo is
 * an error rather than a silently ignored key. Defaults come from the seeds
 * (../shared/SEEDS: resource profiles, environment matrix, alert thresholds, rate limits) and each
 * is written once. What a component also takes as an argument is defaulted by the component's own
 * constant, which this schema applies: `WEB_DEFAULTS` (components/web/defaults.ts), `API_DEFAULTS`
 * (components/api/defaults.ts), `REPOSITORY_DEFAULTS` (components/repository/defaults.ts),
 * `CLUSTER_NAMESPACE_DEFAULTS` and `RECOVERY_DEFAULTS` (components/k8s), `DEFAULT_ALERT_THRESHOLDS`
 * (components/alerts/rules.ts); the edge's zone keys stay unset here and take `EDGE_DEFAULTS`
 * (components/edge) in the component. Defaults no component has (a stack's Kubernetes mode, the
 * ClusterIssuers, the autoscaling bounds, ...) are written here. Those modules load no Pulumi SDK.
 *
 * Keys live in the `monkeytown` namespace: `monkeytown:web` holds the `web` object below, and so on.
 * Secrets are not part of these schemas: they are read only with `requireSecret` (see ./secrets.ts).
 */
import { Platform } from "@pulumi/docker-build/types/enums";
import { z } from "zod";
import { thresholdProblems } from "../components/alerts/rules";
import {
  CLOUDFLARE_PLANS,
  PLAN_CAPABILITIES,
  PLAN_NAMES,
  type CloudflarePlan,
} from "../components/edge/plans";
import { API_DEFAULTS } from "../components/api/defaults";
import {
  CLUSTER_NAMESPACE_DEFAULTS,
  CPU_QUANTITY,
  MEMORY_QUANTITY,
  MIN_CONTAINER_RECOVERY_SECONDS,
  PROBE_COSTS,
  RECOVERY_DEFAULTS,
  resourceProblems,
  type ResourceSpec,
} from "../components/k8s";
import { REPOSITORY_DEFAULTS } from "../components/repository/defaults";
import { WEB_DEFAULTS } from "../components/web/defaults";
import { recoveryPlan } from "./recovery";

const cpuQuantity = z.string().regex(CPU_QUANTITY, "must be a CPU quantity such as 100m, 0.5 or 2");
const memoryQuantity = z
  .string()
  .regex(MEMORY_QUANTITY, "must be a memory quantity such as 64Mi or 1Gi");

const resourcePair = (cpu: string, memory: string) =>
  z.object({ cpu: cpuQuantity.default(cpu), memory: memoryQuantity.default(memory) }).strict();

/**
 * Requests and limits; defaults are a seed resource profile. Quantities must parse and every limit
 * must be at least its request (the API server would reject the pod): checked here, with the same
 * function the components use, so a bad profile is one more line of the config error.
 */
export const resourcesSchema = (profile: ResourceSpec) =>
  z
    .object({
      requests: resourcePair(profile.requests.cpu, profile.requests.memory).default(
        profile.requests,
      ),
      limits: resourcePair(profile.limits.cpu, profile.limits.memory).default(profile.limits),
    })
    .strict()
    .superRefine((spec, ctx) => {
      for (const p of resourceProblems(spec)) {
        ctx.addIssue({
          code: "custom",
          path: p.field.split("."),
          message: p.message,
          params: { fix: p.fix },
        });
      }
    })
    .default({ requests: profile.requests, limits: profile.limits });

/** A DNS host name: lower-case labels of letters, digits and hyphens. */
export const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/,
    "must be a lower-case DNS name such as app.example.com",
  );

/** A Kubernetes object name (RFC 1123 label). */
const k8sName = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "must be a lower-case RFC 1123 name (a-z, 0-9, -)",
  );

/** An image reference with a tag or digest; `latest` and missing tags are refused. */
export const imageRef = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/,
    "must be an image reference with a tag or digest, such as ghcr.io/org/web:1a2b3c4 or ghcr.io/org/web@sha256:<64 hex>",
  )
  .refine(
    (ref) => !ref.endsWith(":latest"),
    "must not use the mutable tag latest: pin a tag or digest",
  );

/** Architecture seed §5, the environment matrix. */
export const environmentSchema = z
  .object({
    /** NODE_ENV. */
    nodeEnv: z.enum(["development", "staging", "production"]),
    /** VITE_APP_NAME. */
    appName: z.string().min(1).max(64),
    /** VITE_ENABLE_DEBUG. */
    debug: z.boolean(),
    /** VITE_BUILD_SOURCEMAP. */
    sourceMaps: z.boolean(),
    /** VITE_ENABLE_ANALYTICS. */
    analytics: z.boolean(),
    /** TLS: none, Let's Encrypt staging, or Let's Encrypt production (cert-manager ClusterIssuer). */
    tls: z.enum(["none", "staging", "production"]),
    /**
     * Health check interval, seconds: the longest probe period; the recovery target may shorten it
     * (config/recovery.ts).
     */
    healthCheckIntervalSeconds: z.number().int().min(1).max(300),
  })
  .strict();

/**
 * Recovery targets (architecture seed §9.1, "Recovery Procedures"): the probe timings and the
 * deploy health check's budget are derived from them (config/recovery.ts).
 */
export const recoverySchema = z
  .object({
    /** A crashed or hung container serves again within this (seed: container crash, RTO 30 s). */
    containerSeconds: z.number().int().min(1).max(600).default(RECOVERY_DEFAULTS.containerSeconds),
    /** A failed deployment is rolled back within this (seed: deployment failure, RTO 1 min). */
    rollbackSeconds: z.number().int().min(1).max(3600).default(RECOVERY_DEFAULTS.rollbackSeconds),
    /**
     * The engine's share of a rollback `pulumi up` (config set, preview, the update's API calls),
     * not counting the rollout.
     */
    rollbackUpdateSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(RECOVERY_DEFAULTS.rollbackUpdateSeconds),
    /**
     * A deploy fails when a Deployment's rollout has not finished within this (the Deployments'
     * progressDeadlineSeconds and the engine's wait); the deploy flow then rolls back.
     */
    rolloutTimeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .default(RECOVERY_DEFAULTS.rolloutTimeoutSeconds),
  })
  .strict();

export const kubernetesSchema = z
  .object({
    /** `render`: write manifests to `renderDir`, no cluster; `cluster`: apply to the kubeconfig's cluster. */
    mode: z.enum(["render", "cluster"]).default("render"),
    /** Folder for rendered manifests, relative to the project (render mode). */
    renderDir: z.string().min(1).default("rendered/dev"),
    /** kubeconfig context to use (cluster mode); the current context when unset. */
    context: z.string().min(1).optional(),
    /** Namespace every workload lives in. */
    namespace: k8sName,
    /** Protect resources whose loss would hurt (namespace, secrets, DNS, repository settings). */
    protect: z.boolean().default(false),
  })
  .strict();

/** A Kubernetes label map (keys with an optional DNS prefix, values of up to 63 characters). */
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelMap = z
  .record(
    z.string(),
    z
      .string()
      .regex(
        /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
        "label values are up to 63 letters, digits, '-', '_' or '.'",
      ),
  )
  // Keys checked here, not by the record's key schema: zod reports a bad key as "Invalid key in
  // record" and drops the reason.
  .superRefine((labels, ctx) => {
    for (const key of Object.keys(labels)) {
      if (!LABEL_NAME.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "label names are `name` or `prefix/name`, e.g. release",
        });
      }
    }
  });

/**
 * A pod toleration as Kubernetes spells it. `Exists` takes no value; a key-less toleration must be
 * `Exists` (it tolerates every taint, which is seldom meant: write the key).
 */
const tolerationSchema = z
  .object({
    key: z.string().min(1).optional(),
    operator: z.enum(["Equal", "Exists"]).default("Equal"),
    value: z.string().optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
    /** NoExecute only: how long the pod stays bound after the taint appears. */
    tolerationSeconds: z.number().int().min(0).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.operator === "Exists" && t.value !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "must be unset when operator is Exists",
      });
    }
    if (t.operator === "Equal" && t.key === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["key"],
        message:
          "is required when operator is Equal (a key-less toleration needs operator: Exists)",
      });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      ctx.addIssue({
        code: "custom",
        path: ["tolerationSeconds"],
        message: "applies to effect NoExecute only",
      });
    }
  });

/** A cluster-scoped object name (RFC 1123 subdomain), e.g. a ClusterIssuer. */
const k8sSubdomain = z
  .string()
  .regex(
    /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be a lower-case RFC 1123 name (a-z, 0-9, -, .)",
  );

/**
 * What the stack expects the cluster to provide (cluster mode): where the ingress controller and
 * Prometheus run, the labels the Prometheus Operator selects on, the cert-manager ClusterIssuers, and
 * whether to check all of that before registering anything (docs/cluster-prerequisites.md).
 */
export const clusterSchema = z
  .object({
    /** Namespace of the ingress controller; the NetworkPolicies admit traffic from it. */
    ingressNamespace: k8sName.default(CLUSTER_NAMESPACE_DEFAULTS.ingress),
    /** Namespace of Prometheus; the API's NetworkPolicy admits its scrapes. */
    monitoringNamespace: k8sName.default(CLUSTER_NAMESPACE_DEFAULTS.monitoring),
    /**
     * Labels on the PrometheusRule, ServiceMonitor and AlertmanagerConfig, for the Prometheus
     * Operator's selectors (kube-prometheus-stack selects `release: <Helm release>`). @default {}
     */
    monitoringLabels: labelMap.default({}),
    /** cert-manager ClusterIssuer for each `environment.tls` value. */
    clusterIssuers: z
      .object({
        /** @default "letsencrypt-staging" */
        staging: k8sSubdomain.default("letsencrypt-staging"),
        /** @default "letsencrypt-production" */
        production: k8sSubdomain.default("letsencrypt-production"),
      })
      .strict()
      .default({ staging: "letsencrypt-staging", production: "letsencrypt-production" }),
    /**
     * Node labels the web and API pods require (a node pool, a dedicated node), e.g.
     * `{ "kubernetes.io/arch": "amd64" }`. @default {} (any node)
     */
    nodeSelector: labelMap.default({}),
    /** Taints of those nodes that the web and API pods tolerate. @default [] */
    tolerations: z.array(tolerationSchema).default([]),
    /**
     * Cluster mode: before any resource, check that the cluster serves the CRDs and has the
     * ClusterIssuer, namespaces and IngressClass this stack needs (kubectl). @default true
     */
    preflight: z.boolean().default(true),
  })
  .strict();

/** The WebService's settings; defaults: `WEB_DEFAULTS`. */
export const webSchema = z
  .object({
    /** Fixed replica count. */
    replicas: z.number().int().min(1).max(50).default(WEB_DEFAULTS.replicas),
    /** Unprivileged container port nginx listens on. */
    port: z.number().int().min(1024).max(65535).default(WEB_DEFAULTS.port),
    /** Ingress host; no Ingress when unset. */
    host: hostname.optional(),
    /** Ingress class. */
    ingressClassName: z.string().min(1).default(WEB_DEFAULTS.ingressClassName),
    /** Requests and limits; the seed's static web profile. */
    resources: resourcesSchema(WEB_DEFAULTS.resources),
  })
  .strict();

export const autoscalingSchema = z
  .object({
    /** @default 2 */
    minReplicas: z.number().int().min(1).default(2),
    /** @default 10 */
    maxReplicas: z.number().int().min(1).max(100).default(10),
    /** Target average CPU utilisation (%) — the seed's "scale up" threshold. */
    targetCpuUtilization: z
      .number()
      .int()
      .min(10)
      .max(95)
      .default(API_DEFAULTS.targetCpuUtilization),
  })
  .strict()
  .refine((a) => a.minReplicas <= a.maxReplicas, {
    message: "minReplicas is greater than maxReplicas: raise maxReplicas or lower minReplicas",
    path: ["minReplicas"],
  });

/** The ApiService's settings; defaults: `API_DEFAULTS`. */
export const apiSchema = z
  .object({
    /** Fixed replica count, used when `autoscaling` is unset. */
    replicas: z.number().int().min(1).max(50).default(API_DEFAULTS.replicas),
    /** HorizontalPodAutoscaler bounds; when set, the Deployment leaves `spec.replicas` to the HPA. */
    autoscaling: autoscalingSchema.optional(),
    /** Container port of the Express server. */
    port: z.number().int().min(1024).max(65535).default(API_DEFAULTS.port),
    /** `rolling` (maxSurge 1, maxUnavailable 0) or `blue-green`. @default "rolling" */
    strategy: z.enum(["rolling", "blue-green"]).default("rolling"),
    /** Blue-green only: the colour the Service sends traffic to. @default "blue" */
    activeColor: z.enum(["blue", "green"]).default("blue"),
    /**
     * Blue-green only: image of the blue Deployment; the release (`apiImage`, or the image this commit
     * builds) when unset. The deploy flow (scripts/blue-green.sh) pins the serving colour here and
     * leaves the idle one unset, so a deploy moves only the idle colour.
     */
    blueImage: imageRef.optional(),
    /** Blue-green only: image of the green Deployment; as `blueImage`. */
    greenImage: imageRef.optional(),
    /** Non-secret runtime settings passed as env (`LOG_LEVEL`, ...). */
    env: z
      .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "env names are UPPER_SNAKE_CASE"), z.string())
      .default({}),
    /** Public path prefix of the REST API. @default "/api/v1" */
    basePath: z
      .string()
      .regex(/^\/[a-z0-9/_-]*$/)
      .default("/api/v1"),
    /** Requests and limits; the seed's Node runtime profile. */
    resources: resourcesSchema(API_DEFAULTS.resources),
  })
  .strict()
  .superRefine((api, ctx) => {
    const key = (color: "blue" | "green") => `${color}Image` as const;
    if (api.strategy === "rolling") {
      for (const color of ["blue", "green"] as const) {
        if (api[key(color)] === undefined) continue;
        ctx.addIssue({
          code: "custom",
          path: [key(color)],
          message:
            "is set but api.strategy is rolling: only blue-green runs a Deployment per colour",
          params: {
            fix: `remove it (\`pulumi config rm --path monkeytown:api.${key(color)} -s {stack}\`), or set api.strategy to blue-green`,
          },
        });
      }
      return;
    }
    const active = api.activeColor;
    const idle: typeof active = active === "blue" ? "green" : "blue";
    if (api[key(active)] === undefined && api[key(idle)] !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key(active)],
        message: `is unset, but api.activeColor points at ${active} while api.${key(idle)} is pinned: the serving colour would take the release image (whatever this update builds) with no smoke test, and ${idle} is not what served before`,
        params: {
          fix: `pin the colours to what runs with \`scripts/blue-green.sh pin {stack}\` (from the stack outputs apiActiveColor and apiColorImages), or set \`pulumi config set --path monkeytown:api.${key(active)} <the image ${active} runs> -s {stack}\`, or point api.activeColor back at ${idle}`,
        },
      });
    }
  });

export const registrySchema = z
  .object({
    /** Build and push images from docker/ (off in dev: images are referenced, not built). @default false */
    push: z.boolean().default(false),
    /** Registry host. @default "ghcr.io" */
    server: z.string().min(1).default("ghcr.io"),
    /** Owner (user or organisation) the images live under. */
    owner: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,38})$/, "must be a lower-case GitHub owner name"),
    /** Registry user; the password is the secret `monkeytown:registryToken`. */
    username: z.string().min(1).optional(),
    /** Image tag; the git commit (12 characters) when unset, so the same commit gives the same tag. */
    tag: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/)
      .optional(),
    /**
     * Name of an existing buildx builder to build with (docker-container, kubernetes or remote
     * driver), e.g. a local buildkitd: `docker buildx create --name <name> --driver remote <address>`.
     * docker-build's own builder when unset.
     */
    builder: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
        "must be a buildx builder name (letters, digits, _ . -)",
      )
      .optional(),
    /**
     * Keep built images in the builder's image store too (BuildKit `store`; a containerd worker
     * stores them in containerd, where a kubelet on it finds them). BuildKit's default when unset.
     */
    store: z.boolean().optional(),
    /** Also load built images into the local Docker engine (`--load`). @default false */
    load: z.boolean().optional(),
    /** Platforms to build for. @default ["linux/amd64"] */
    platforms: z
      .array(
        z
          .enum(Platform)
          .refine((p) => p.startsWith("linux/"), "must be a Linux platform (the cluster's nodes)"),
      )
      .min(1)
      .optional(),
    /** Build images during previews too (nothing is pushed then); off, a preview needs no builder. @default true */
    buildOnPreview: z.boolean().optional(),
    /**
     * Base images, passed to the Dockerfiles as build arguments (`NODE_IMAGE`, `NGINX_IMAGE`): for a
     * mirror, or images made locally where no public registry is reachable. The Dockerfiles' public
     * defaults (node:20-alpine, nginx:1.27-alpine) when unset.
     */
    baseImages: z
      .object({
        /** Base of the API image (Dockerfile.api's `NODE_IMAGE`). */
        node: imageRef.optional(),
        /** Base of the web image (Dockerfile.web's `NGINX_IMAGE`). */
        nginx: imageRef.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const secretsSchema = z
  .object({
    /**
     * `kubernetes`: create the app's Kubernetes Secret from secret config.
     * `external`: reference a Secret provisioned out of band (render mode: no secret material on disk).
     */
    delivery: z.enum(["kubernetes", "external"]).default("external"),
    /** GitHub Actions environment (e.g. `staging`) that also receives the app secrets; none when unset. */
    githubEnvironment: z.enum(["staging", "production"]).optional(),
  })
  .strict();

const thresholdPair = z
  .object({ warning: z.number().positive().optional(), critical: z.number().positive().optional() })
  .strict();

/**
 * Overrides of the alert thresholds (architecture seed §7.2). The defaults live once, in
 * components/alerts/rules.ts (`DEFAULT_ALERT_THRESHOLDS`); this schema checks the merged result with
 * the same function the component uses, so a bad threshold fails here, before anything is created.
 */
export const thresholdsSchema = z
  .object({
    cpuPercent: thresholdPair.optional(),
    memoryPercent: thresholdPair.optional(),
    diskPercent: thresholdPair.optional(),
    errorRatePercent: thresholdPair.optional(),
    p99LatencySeconds: thresholdPair.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const p of thresholdProblems(t)) {
      ctx.addIssue({ code: "custom", path: [...p.path], message: p.message.replace(/\.$/, "") });
    }
  });

export const alertsSchema = z
  .object({
    /** PrometheusRule, ServiceMonitor and AlertmanagerConfig (needs the Prometheus Operator CRDs). @default true */
    enabled: z.boolean().default(true),
    /** Chat receiver for critical alerts; its URL is the secret `monkeytown:alertWebhookUrl`. @default "slack" */
    webhookKind: z.enum(["slack", "discord"]).default("slack"),
    /** Daily digest of warnings by email. */
    email: z
      .object({
        to: z.email(),
        from: z.email(),
        smarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, "must be host:port"),
        /** SMTP user; its password is the secret `monkeytown:smtpPassword`. */
        username: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    thresholds: thresholdsSchema.default({}),
  })
  .strict();

/**
 * Zone-level edge keys: only the stack with `edge.manageZone` may set them. Unset, each takes the
 * Edge component's default (`EDGE_DEFAULTS` in components/edge: the infrastructure seed's rate
 * limits, no WAF, no Advanced Rate Limiting), so the schema leaves them unset.
 */
export const EDGE_ZONE_KEYS = [
  "zoneHostnames",
  "plan",
  "advancedRateLimiting",
  "waf",
  "apiRateLimitPerMinute",
  "globalRateLimitPerMinute",
  "userRateLimitPerMinute",
  "userRateLimitKey",
] as const;

/**
 * A key a section needs once it is switched on. Unset, it is one problem that names the switch
 * (`is required when edge.enabled is true`), not zod's "expected string, received undefined", and
 * the section's other checks still run, so every problem is reported at once. The parsed type has
 * the key, so the program needs no `!`.
 */
function requiredWhen<T extends z.ZodType>(schema: T, message: string, fix?: string) {
  return schema.optional().transform((value, ctx) => {
    if (value === undefined) {
      // `continue`: the section's own checks (superRefine) still run.
      ctx.addIssue({
        code: "custom",
        message,
        continue: true,
        ...(fix !== undefined ? { params: { fix } } : {}),
      });
    }
    return value as z.output<T>;
  });
}

/**
 * An on/off switch of a section (`enabled`, `edge.manageZone`). A section with switches is a zod
 * discriminated union on them, so the parsed type says which keys a switched-on section has; the
 * switches are checked as booleans first (`z.looseObject({ enabled: sectionSwitch }).pipe(union)`),
 * so a wrong value reads "expected a boolean", not a union's "no matching discriminator". Such a
 * switch is reported alone; the section's other keys are checked once it is a boolean.
 */
const sectionSwitch = z.boolean().default(false);

const cloudflareZoneId = z
  .string()
  .regex(/^[a-f0-9]{32}$/, "must be a 32-character Cloudflare zone id");
const cloudflarePlan = z.enum(CLOUDFLARE_PLANS as [CloudflarePlan, ...CloudflarePlan[]]);

/** Every `edge` key as a stack file may hold it, whatever the switches say. */
const edgeKeys = {
  /** Cloudflare zone id. */
  zoneId: cloudflareZoneId.optional(),
  /** Record the site is served at (proxied). */
  domain: hostname.optional(),
  /** Origin the proxied record points at (load balancer host name). */
  origin: hostname.optional(),
  /**
   * This stack owns the zone's settings (SSL strict, HTTPS, TLS) and its entry-point rulesets
   * (cache, rate limits, WAF), which Cloudflare allows once per zone: exactly one stack per zone
   * sets it (production), and its rules cover every hostname in `zoneHostnames`. @default false
   */
  manageZone: z.boolean(),
  /** Every proxied hostname of the zone its rules cover, other stacks' too. @default [domain] */
  zoneHostnames: z.array(hostname).min(1).optional(),
  /** The zone's Cloudflare plan; decides which rate-limit tiers and WAF rules exist. Required with manageZone. */
  plan: cloudflarePlan.optional(),
  /** The zone has Enterprise's Advanced Rate Limiting (Host, header and cookie counting). */
  advancedRateLimiting: z.boolean().optional(),
  /** Cloudflare's managed WAF rules (Pro and above). */
  waf: z.boolean().optional(),
  /** Per-IP requests per minute on /api (the infrastructure seed's per-IP tier). */
  apiRateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
  /** Requests per minute on /api from every client together, per data centre (the seed's global tier). */
  globalRateLimitPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  /** Requests per minute on /api per user (the seed's per-user tier). */
  userRateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
  /** What identifies a user: `header:<lower-case name>` or `cookie:<name>`. */
  userRateLimitKey: z
    .string()
    .regex(
      /^(header:[a-z0-9-]{1,64}|cookie:[A-Za-z0-9_.-]{1,64})$/,
      'must be "header:<lower-case name>" or "cookie:<name>", e.g. header:authorization',
    )
    .optional(),
};

/** The keys an enabled edge cannot do without. */
const edgeOnKeys = {
  enabled: z.literal(true),
  ...edgeKeys,
  zoneId: requiredWhen(cloudflareZoneId, "is required when edge.enabled is true"),
  domain: requiredWhen(hostname, "is required when edge.enabled is true"),
  origin: requiredWhen(hostname, "is required when edge.enabled is true"),
};

/**
 * `edge`: the site behind Cloudflare. Off means off: a stack file's edge settings may stay (a local
 * cluster's override turns the edge off without touching them).
 */
export const edgeSchema = z.looseObject({ enabled: sectionSwitch, manageZone: sectionSwitch }).pipe(
  z.discriminatedUnion("enabled", [
    z
      .object({
        /** Put the site behind Cloudflare (a proxied DNS record). Needs the secret `monkeytown:cloudflareApiToken`. @default false */
        enabled: z.literal(false),
        ...edgeKeys,
      })
      .strict(),
    z.discriminatedUnion("manageZone", [
      // A stack with its DNS record only; the zone is another stack's.
      z
        .object({ ...edgeOnKeys, manageZone: z.literal(false) })
        .strict()
        .superRefine((e, ctx) => {
          for (const key of EDGE_ZONE_KEYS) {
            if (e[key] === undefined) continue;
            ctx.addIssue({
              code: "custom",
              path: [key],
              message:
                "is a zone-level setting, but this stack does not manage the zone (edge.manageZone is false); Cloudflare keeps one entry-point ruleset per phase and one setting per zone, so a second stack writing it would overwrite the first",
              params: {
                fix: "remove it here; set it in the stack file with edge.manageZone: true (production), whose edge.zoneHostnames lists this stack's edge.domain",
              },
            });
          }
        }),
      // The zone's owner.
      z
        .object({
          ...edgeOnKeys,
          manageZone: z.literal(true),
          plan: requiredWhen(
            cloudflarePlan,
            "is required when edge.manageZone is true: the zone's plan decides which rules exist",
            `set it to one of ${CLOUDFLARE_PLANS.join(", ")} (the zone's plan in the Cloudflare dashboard)`,
          ),
        })
        .strict()
        .superRefine((parsed, ctx) => {
          // Runs after a missing key's own problem too (requiredWhen), so it reads them as optional.
          const e: Partial<typeof parsed> = parsed;
          if (e.plan === undefined) return;
          if (
            e.domain !== undefined &&
            e.zoneHostnames !== undefined &&
            !e.zoneHostnames.includes(e.domain)
          ) {
            ctx.addIssue({
              code: "custom",
              path: ["zoneHostnames"],
              message: `leaves out edge.domain ("${e.domain}"): this stack's own site would get none of the zone's rules`,
              params: { fix: `add "${e.domain}" to edge.zoneHostnames` },
            });
          }
          const plan = PLAN_NAMES[e.plan];
          if (e.waf === true && !PLAN_CAPABILITIES[e.plan].managedWaf) {
            ctx.addIssue({
              code: "custom",
              path: ["waf"],
              message: `is true but the ${plan} plan cannot deploy Cloudflare's managed WAF rulesets (Pro and above)`,
              params: {
                fix: "set edge.waf to false, or edge.plan to the zone's real plan if it is Pro or above",
              },
            });
          }
          if (e.advancedRateLimiting === true && e.plan !== "enterprise") {
            ctx.addIssue({
              code: "custom",
              path: ["advancedRateLimiting"],
              message: `is true but the plan is ${plan}: Advanced Rate Limiting is an Enterprise add-on`,
              params: { fix: 'set it to false, or edge.plan to "enterprise"' },
            });
          }
        }),
    ]),
  ]),
);

const githubRepositoryName = z.string().regex(/^[A-Za-z0-9_.-]+$/);

/** Every `github` key as a stack file may hold it, whatever `enabled` says. */
const githubKeys = {
  /** Manage branch protection and the environments; exactly one stack (production) should. @default false */
  manageRepository: z.boolean().default(false),
  /** Repository owner. */
  owner: z.string().min(1).optional(),
  /** Repository name. */
  repository: githubRepositoryName.optional(),
  /** Approving reviews required on pull requests to main. */
  requiredReviews: z
    .number()
    .int()
    .min(1)
    .max(6)
    .default(REPOSITORY_DEFAULTS.requiredApprovingReviewCount),
  /** User ids that approve production deployments. */
  productionReviewerUserIds: z.array(z.number().int().positive()).default([]),
  /** Team ids that approve production deployments. */
  productionReviewerTeamIds: z.array(z.number().int().positive()).default([]),
};

/** `github`: the repository's settings and environment secrets. Off means off, as for `edge`. */
export const githubSchema = z.looseObject({ enabled: sectionSwitch }).pipe(
  z.discriminatedUnion("enabled", [
    z
      .object({
        /** Use the GitHub provider (environment secrets). Needs the secret `monkeytown:githubToken`. @default false */
        enabled: z.literal(false),
        ...githubKeys,
      })
      .strict(),
    z
      .object({
        enabled: z.literal(true),
        ...githubKeys,
        owner: requiredWhen(z.string().min(1), "is required when github.enabled is true"),
        repository: requiredWhen(githubRepositoryName, "is required when github.enabled is true"),
      })
      .strict()
      .superRefine((g, ctx) => {
        if (
          g.manageRepository &&
          g.productionReviewerUserIds.length + g.productionReviewerTeamIds.length === 0
        ) {
          ctx.addIssue({
            code: "custom",
            path: ["productionReviewerUserIds"],
            message: "production needs at least one required reviewer (a user id or a team id)",
          });
        }
      }),
  ]),
);

/** The whole `monkeytown:*` namespace. Unknown keys are errors. */
export const stackConfigSchema = z
  .object({
    environment: environmentSchema,
    kubernetes: kubernetesSchema,
    cluster: clusterSchema.default(clusterSchema.parse({})),
    /** Web image to deploy; built from docker/Dockerfile.web when unset and registry.push is on. */
    webImage: imageRef.optional(),
    /** API image to deploy; built from docker/Dockerfile.api when unset and registry.push is on. */
    apiImage: imageRef.optional(),
    web: webSchema.default(webSchema.parse({})),
    api: apiSchema.default(apiSchema.parse({})),
    registry: registrySchema,
    secrets: secretsSchema.default(secretsSchema.parse({})),
    recovery: recoverySchema.default(recoverySchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    edge: edgeSchema.default(edgeSchema.parse({})),
    github: githubSchema.default(githubSchema.parse({})),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [key, image] of [
      ["webImage", c.webImage],
      ["apiImage", c.apiImage],
    ] as const) {
      if (image === undefined && !c.registry.push) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "is required when registry.push is false (nothing builds the image)",
        });
      }
    }
    if (c.secrets.githubEnvironment !== undefined && !c.github.enabled) {
      ctx.addIssue({
        code: "custom",
        path: ["secrets", "githubEnvironment"],
        message: "needs github.enabled: the environment secrets live in the managed repository",
      });
    }
    const recovery = recoveryPlan(c);
    if (!recovery.ok && recovery.key === "containerSeconds") {
      ctx.addIssue({
        code: "custom",
        path: ["recovery", "containerSeconds"],
        message: `(${c.recovery.containerSeconds}) is shorter than any probe period can meet: the probe timeout, the kill grace, the restart and the readiness delay alone take ${MIN_CONTAINER_RECOVERY_SECONDS - PROBE_COSTS.livenessFailureThreshold - 1} s`,
        params: { fix: `raise it to at least ${MIN_CONTAINER_RECOVERY_SECONDS}` },
      });
    } else if (!recovery.ok) {
      ctx.addIssue({
        code: "custom",
        path: ["recovery", "rollbackSeconds"],
        message: `(${c.recovery.rollbackSeconds}) leaves the deploy health check less than two attempts once the rollback's update (recovery.rollbackUpdateSeconds) and rollout (web and rolling API replicas, one pod at a time) are counted`,
        params: {
          fix: "raise it, lower recovery.rollbackUpdateSeconds, or roll fewer replicas (blue-green switches back without a rollout)",
        },
      });
    }
    if (c.edge.enabled && c.environment.tls !== "production") {
      ctx.addIssue({
        code: "custom",
        path: ["environment", "tls"],
        message:
          c.environment.tls === "staging"
            ? "is \"staging\" but edge.enabled is true: the zone's SSL mode is strict, and Cloudflare does not trust Let's Encrypt's staging CA, so every request through the edge would end in error 526"
            : 'is "none" but edge.enabled is true: the zone\'s SSL mode is strict, so Cloudflare needs HTTPS with a trusted certificate at the origin (errors 525/526 otherwise)',
        params: {
          fix: "set environment.tls to \"production\" (Let's Encrypt's trusted CA; its staging CA is for trying cert-manager without a proxy in front), or edge.enabled to false",
        },
      });
    }
    if (c.kubernetes.mode === "render" && c.secrets.delivery === "kubernetes") {
      ctx.addIssue({
        code: "custom",
        path: ["secrets", "delivery"],
        message:
          "cannot be kubernetes in render mode: rendered manifests would hold the secrets in plaintext; use external",
      });
    }
  });

export type StackConfig = z.infer<typeof stackConfigSchema>;
/** `edge` of a stack behind Cloudflare: its zone id, domain and origin are set. */
export type EnabledEdgeConfig = Extract<StackConfig["edge"], { enabled: true }>;
/** `edge` of the stack that owns the zone: its plan is set too. */
export type ZoneOwnerEdgeConfig = Extract<EnabledEdgeConfig, { manageZone: true }>;
/** `github` of a stack that uses the GitHub provider: owner and repository are set. */
export type EnabledGithubConfig = Extract<StackConfig["github"], { enabled: true }>;
