import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  RECLAIM_DRIFT_ANNOTATIONS,
  GRACEFUL_SHUTDOWN,
  SAFE_ROLLING_UPDATE,
  appContainer,
  appPodSpec,
  fromNamespaces,
  httpServiceSpec,
  oneAtATimePdbSpec,
  selectorLabels,
  standardLabels,
  validateProbeTimings,
  validateRolloutTimeout,
  rolloutDeadline,
  RECOVERY_DEFAULTS,
  validateResources,
  type ResourceSpec,
  type WorkloadArgs,
} from "../k8s";
import { checkArgs, PKG } from "../args";
import type { SecretReference } from "../secrets";
import { API_DEFAULTS } from "./defaults";

export { API_DEFAULTS } from "./defaults";

export type Color = "blue" | "green";
export const COLOR_LABEL = "monkeytown.dev/color";
/**
 * Which of the API's Services an object is: `live` (the main Service: the active colour, or the one
 * Deployment when rolling) or `preview` (blue-green's idle colour). The colour label is on pods
 * only, never on a Service, so whatever selects the API's Service (the ServiceMonitor) uses this.
 */
export const SERVICE_ROLE_LABEL = "monkeytown.dev/service-role";

export interface AutoscalingArgs {
  /** Fewest pods. */
  readonly minReplicas: number;
  /** Most pods. */
  readonly maxReplicas: number;
  /** Target average CPU utilisation, percent. @default 70 */
  readonly targetCpuUtilization?: number;
}

export interface BlueGreenArgs {
  /** Colour the main Service sends traffic to. */
  readonly activeColor: Color;
  /**
   * Image per colour; a colour without one runs `image` (the release). A deploy pins the active
   * colour and leaves the idle one without, so a new `image` reaches the idle colour only and the
   * serving colour stays as it was, the instant rollback. The active colour may go without an image
   * only when the idle one has none either (the first deploy).
   */
  readonly images?: { readonly blue?: pulumi.Input<string>; readonly green?: pulumi.Input<string> };
  /**
   * Replicas of the idle colour, kept warm for smoke tests and as the instant rollback target, so
   * it must be able to take the traffic back. @default the active colour's minimum (replicas or HPA minReplicas)
   */
  readonly standbyReplicas?: number;
}

export interface ApiServiceArgs extends WorkloadArgs {
  /** Image reference (tag or digest) of the API. */
  readonly image: pulumi.Input<string>;
  /** Container port of the Express server. @default 3000 */
  readonly port?: number;
  /** Fixed replica count, used without `autoscaling`. @default 1 */
  readonly replicas?: number;
  /** HorizontalPodAutoscaler bounds; the Deployment then sets no `spec.replicas`. */
  readonly autoscaling?: AutoscalingArgs;
  /** Requests and limits. @default requests 200m/256Mi, limits 1000m/512Mi */
  readonly resources?: ResourceSpec;
  /** Non-secret runtime settings, delivered through a ConfigMap and `envFrom`. */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Secret runtime settings, by reference only (`secretKeyRef`): values never pass through here. */
  readonly secretEnv?: SecretReference;
  /** `rolling` (default) or blue-green with two coloured Deployments. */
  readonly blueGreen?: BlueGreenArgs;
  /** Namespace of Prometheus, allowed to scrape `/metrics`. @default CLUSTER_NAMESPACE_DEFAULTS.monitoring */
  readonly monitoringNamespace?: string;
}

/** The component's type token. */
export const API_SERVICE_TYPE = `${PKG}:api:ApiService`;

/** Every problem with the arguments, each naming the argument and the fix. */
export function validateApiServiceArgs(args: ApiServiceArgs): string[] {
  const problems: string[] = [];
  const replicas = args.replicas ?? API_DEFAULTS.replicas;
  if (!Number.isInteger(replicas) || replicas < 1) {
    problems.push(`\`replicas\` (${replicas}) must be a whole number of at least 1.`);
  }
  const a = args.autoscaling;
  if (a) {
    if (a.minReplicas < 1)
      problems.push(`\`autoscaling.minReplicas\` (${a.minReplicas}) must be at least 1.`);
    if (a.minReplicas > a.maxReplicas) {
      problems.push(
        `\`autoscaling.minReplicas\` (${a.minReplicas}) is greater than \`autoscaling.maxReplicas\` (${a.maxReplicas}): raise maxReplicas or lower minReplicas.`,
      );
    }
    if (args.replicas !== undefined) {
      problems.push(
        "`replicas` and `autoscaling` are both set: an HPA-managed Deployment must not set spec.replicas; remove replicas.",
      );
    }
  }
  const bg = args.blueGreen;
  if (bg) {
    const idle = otherColor(bg.activeColor);
    if (bg.images?.[bg.activeColor] === undefined && bg.images?.[idle] !== undefined) {
      problems.push(
        `\`blueGreen.images.${bg.activeColor}\` is unset while \`blueGreen.images.${idle}\` is set: the serving colour (${bg.activeColor}) would take \`image\` and the idle one keep its own; give ${bg.activeColor} the image it runs, or switch \`blueGreen.activeColor\` to ${idle}.`,
      );
    }
  }
  problems.push(...validateResources(args.resources ?? API_DEFAULTS.resources, "resources"));
  if (args.probes !== undefined) problems.push(...validateProbeTimings(args.probes, "probes"));
  problems.push(...validateRolloutTimeout(args.rolloutTimeoutSeconds));
  for (const name of Object.keys(args.env ?? {})) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
      problems.push(`\`env\` key "${name}" must be UPPER_SNAKE_CASE.`);
    }
    if (args.secretEnv?.keys.includes(name)) {
      problems.push(
        `\`env\` key "${name}" is also a \`secretEnv\` key: keep it only in the Secret.`,
      );
    }
  }
  return problems;
}

/** The colour that is not `color`: blue-green's idle colour when `color` serves. */
export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/** The pods one Deployment runs: fixed, or left to the HPA. */
export function replicaPlan(args: Pick<ApiServiceArgs, "replicas" | "autoscaling">): {
  replicas?: number;
  minPods: number;
} {
  if (args.autoscaling) return { minPods: args.autoscaling.minReplicas };
  const replicas = args.replicas ?? API_DEFAULTS.replicas;
  return { replicas, minPods: replicas };
}

/**
 * The Node/Express API (`/api/v1/*`, WebSocket `/ws`, `/health`, `/ready`, `/metrics`): hardened
 * Deployment(s), a Service, optional HPA, a PodDisruptionBudget when two or more pods serve, a
 * NetworkPolicy, and runtime settings from a ConfigMap plus Secret references.
 *
 * Blue-green runs a Deployment per colour; the main Service selects the active colour and a
 * `-preview` Service the idle one. Switching is a change of `blueGreen.activeColor`, reversible the
 * same way.
 */
export class ApiService extends pulumi.ComponentResource {
  /** Deployments by colour (`rolling` has only `primary`). */
  public readonly deployments: Record<string, k8s.apps.v1.Deployment> = {};
  public readonly service: k8s.core.v1.Service;
  public readonly previewService?: k8s.core.v1.Service;
  public readonly envConfigMap: k8s.core.v1.ConfigMap;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  public readonly autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  public readonly podDisruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
  public readonly serviceName: pulumi.Output<string>;
  public readonly servicePort = 80;
  /** Selector labels of the pods behind the main Service (in blue-green, the active colour's). */
  public readonly selector: Record<string, string>;
  /**
   * Labels on the live Service's metadata that no other Service of the component carries: what a
   * ServiceMonitor selects it by (never `selector`, which holds the colour label no Service has).
   */
  public readonly serviceLabels: Record<string, string>;
  /** Name of the HPA, when autoscaling. */
  public readonly autoscalerName?: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** Blue-green: the image each colour's Deployment runs (the stack records it as the rollback map). */
  public readonly colorImages?: Record<Color, pulumi.Output<string>>;
  /** The image that takes the traffic: the active colour's in blue-green, else `image`. */
  public readonly servingImage: pulumi.Output<string>;

  constructor(name: string, args: ApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(API_SERVICE_TYPE, name, validateApiServiceArgs(args));
    super(API_SERVICE_TYPE, name, {}, opts);

    const port = args.port ?? API_DEFAULTS.port;
    const resources = args.resources ?? API_DEFAULTS.resources;
    const probes = args.probes ?? API_DEFAULTS.probes;
    const deadline = rolloutDeadline(
      args.rolloutTimeoutSeconds ?? RECOVERY_DEFAULTS.rolloutTimeoutSeconds,
    );
    const base = selectorLabels(name, "api");
    const labels = standardLabels(name, "api", args.labels);
    const meta = (suffix: string, extraLabels: Record<string, string> = {}) => ({
      name: `${name}${suffix}`,
      namespace: args.namespace,
      labels: { ...labels, ...extraLabels },
    });

    // The server drains by itself on SIGTERM (docker/api/src/server.js): the timings are the pod's.
    const env = {
      PORT: String(port),
      SHUTDOWN_DELAY_SECONDS: String(GRACEFUL_SHUTDOWN.drainSeconds),
      SHUTDOWN_TIMEOUT_SECONDS: String(GRACEFUL_SHUTDOWN.closeTimeoutSeconds),
      ...args.env,
    };
    this.envConfigMap = new k8s.core.v1.ConfigMap(
      `${name}-env`,
      { metadata: meta("-env"), data: env },
      { parent: this },
    );
    // Rolling the pods when a setting changes: the hash of the settings rides on the pod template.
    const envHash = pulumi
      .output(env)
      .apply((e) =>
        crypto.createHash("sha256").update(JSON.stringify(e)).digest("hex").slice(0, 16),
      );

    const secretEnv = args.secretEnv
      ? args.secretEnv.keys.map((key) => ({
          name: key,
          valueFrom: { secretKeyRef: { name: args.secretEnv!.name, key } },
        }))
      : undefined;

    const podTemplate = (image: pulumi.Input<string>, podLabels: Record<string, string>) => ({
      metadata: { labels: podLabels, annotations: { "monkeytown.dev/env-sha256": envHash } },
      spec: appPodSpec(
        [
          appContainer({
            name: "api",
            image,
            port,
            resources,
            probes,
            envFrom: [{ configMapRef: { name: this.envConfigMap.metadata.name } }],
            env: secretEnv,
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          }),
        ],
        [{ name: "tmp", emptyDir: { sizeLimit: "128Mi" } }],
        { imagePullSecrets: args.imagePullSecrets, placement: args.placement },
      ),
    });

    const plan = replicaPlan(args);
    const bg = args.blueGreen;
    let activeSelector: Record<string, string> = base;
    let activeDeploymentName: pulumi.Output<string>;
    // Blue-green: the image each colour runs, its own or else the release (`image`).
    const colorImages = bg
      ? {
          blue: pulumi.output(bg.images?.blue ?? args.image),
          green: pulumi.output(bg.images?.green ?? args.image),
        }
      : undefined;
    this.colorImages = colorImages;
    this.servingImage = bg && colorImages ? colorImages[bg.activeColor] : pulumi.output(args.image);

    if (!bg) {
      const d = new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
          metadata: { ...meta(""), annotations: RECLAIM_DRIFT_ANNOTATIONS },
          spec: {
            replicas: plan.replicas,
            ...deadline.spec,
            revisionHistoryLimit: 5,
            selector: { matchLabels: base },
            strategy: SAFE_ROLLING_UPDATE,
            template: podTemplate(args.image, labels),
          },
        },
        { parent: this, customTimeouts: deadline.customTimeouts },
      );
      this.deployments.primary = d;
      activeDeploymentName = d.metadata.name;
    } else {
      const standby = bg.standbyReplicas ?? plan.minPods;
      for (const color of ["blue", "green"] as const) {
        const active = color === bg.activeColor;
        const colorSelector = { ...base, [COLOR_LABEL]: color };
        const d = new k8s.apps.v1.Deployment(
          `${name}-${color}`,
          {
            metadata: {
              ...meta(`-${color}`, { [COLOR_LABEL]: color }),
              annotations: RECLAIM_DRIFT_ANNOTATIONS,
            },
            spec: {
              replicas: active ? plan.replicas : standby,
              ...deadline.spec,
              revisionHistoryLimit: 5,
              selector: { matchLabels: colorSelector },
              strategy: SAFE_ROLLING_UPDATE,
              template: podTemplate(colorImages![color], {
                ...labels,
                [COLOR_LABEL]: color,
              }),
            },
          },
          { parent: this, customTimeouts: deadline.customTimeouts },
        );
        this.deployments[color] = d;
      }
      activeSelector = { ...base, [COLOR_LABEL]: bg.activeColor };
      activeDeploymentName = this.deployments[bg.activeColor].metadata.name;
      const idle = otherColor(bg.activeColor);
      this.previewService = new k8s.core.v1.Service(
        `${name}-preview`,
        {
          metadata: meta("-preview", { [SERVICE_ROLE_LABEL]: "preview" }),
          spec: httpServiceSpec({ ...base, [COLOR_LABEL]: idle }, this.servicePort),
        },
        { parent: this },
      );
    }
    this.selector = activeSelector;
    this.serviceLabels = { ...base, [SERVICE_ROLE_LABEL]: "live" };

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta("", { [SERVICE_ROLE_LABEL]: "live" }),
        spec: httpServiceSpec(activeSelector, this.servicePort),
      },
      { parent: this },
    );
    this.serviceName = this.service.metadata.name;

    if (args.autoscaling) {
      const a = args.autoscaling;
      this.autoscaler = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: meta(""),
          spec: {
            scaleTargetRef: {
              apiVersion: "apps/v1",
              kind: "Deployment",
              name: activeDeploymentName,
            },
            minReplicas: a.minReplicas,
            maxReplicas: a.maxReplicas,
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: {
                    type: "Utilization",
                    averageUtilization: a.targetCpuUtilization ?? API_DEFAULTS.targetCpuUtilization,
                  },
                },
              },
            ],
          },
        },
        { parent: this },
      );
      this.autoscalerName = this.autoscaler.metadata.name;
    }

    if (plan.minPods >= 2) {
      this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: meta(""),
          // Both colours in blue-green: the idle one is the rollback target and must survive drains too.
          spec: oneAtATimePdbSpec(base),
        },
        { parent: this },
      );
    }

    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(""),
        spec: {
          podSelector: { matchLabels: base },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              // Public traffic arrives only through the ingress controller; Prometheus scrapes /metrics.
              from: fromNamespaces(
                args.ingressNamespace ?? API_DEFAULTS.ingressNamespace,
                args.monitoringNamespace ?? API_DEFAULTS.monitoringNamespace,
              ),
              ports: [{ port: "http", protocol: "TCP" }],
            },
          ],
          egress: [
            {
              // DNS.
              to: fromNamespaces("kube-system"),
              ports: [
                { port: 53, protocol: "UDP" },
                { port: 53, protocol: "TCP" },
              ],
            },
            // HTTPS to outside services (GitHub API and the like), as the seed's security groups allow.
            { ports: [{ port: 443, protocol: "TCP" }] },
          ],
        },
      },
      { parent: this },
    );

    this.url = pulumi.interpolate`http://${this.serviceName}.${args.namespace}.svc.cluster.local`;
    this.registerOutputs({
      serviceName: this.serviceName,
      url: this.url,
      servingImage: this.servingImage,
      colorImages: this.colorImages,
    });
  }
}
