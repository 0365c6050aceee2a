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
import { NGINX_DEFAULTS, renderNginxConfig, type NginxConfigOptions } from "./nginx";
import { WEB_DEFAULTS } from "./defaults";

export { renderNginxConfig, NGINX_DEFAULTS } from "./nginx";
export { WEB_DEFAULTS } from "./defaults";
export type { NginxConfigOptions } from "./nginx";

/** A path on the site's host that the Ingress sends to another Service (the API, the WebSocket). */
export interface IngressRoute {
  /** Path prefix, e.g. `/api`. */
  readonly path: string;
  /** Service that receives it. */
  readonly serviceName: pulumi.Input<string>;
  /** Service port number. */
  readonly servicePort: number;
}

export interface WebIngressArgs {
  /** Host name the site is served at. */
  readonly host: string;
  /** IngressClass. @default "nginx" */
  readonly className?: string;
  /** cert-manager ClusterIssuer for TLS; no TLS when unset. */
  readonly clusterIssuer?: string;
  /** Further paths on the same host routed to other Services (the API, the WebSocket). */
  readonly routes?: readonly IngressRoute[];
}

export interface WebServiceArgs extends WorkloadArgs {
  /** Image reference (tag or digest) of the nginx + SPA image. */
  readonly image: pulumi.Input<string>;
  /** Replica count. @default 1 */
  readonly replicas?: number;
  /** Unprivileged port nginx listens on. @default 8080 */
  readonly port?: number;
  /** Requests and limits. @default requests 100m/64Mi, limits 200m/128Mi */
  readonly resources?: ResourceSpec;
  /** Further nginx options (gzip, paths); `port` above wins. */
  readonly nginx?: Omit<NginxConfigOptions, "port">;
  /** Optional Ingress for the site's host. */
  readonly ingress?: WebIngressArgs;
}

/** The component's type token. */
export const WEB_SERVICE_TYPE = `${PKG}:web:WebService`;

/** Every problem with the arguments, each naming the argument and the fix. */
export function validateWebServiceArgs(args: WebServiceArgs): string[] {
  const problems: string[] = [];
  const replicas = args.replicas ?? WEB_DEFAULTS.replicas;
  if (!Number.isInteger(replicas) || replicas < 1) {
    problems.push(`\`replicas\` (${replicas}) must be a whole number of at least 1.`);
  }
  problems.push(...validateResources(args.resources ?? WEB_DEFAULTS.resources, "resources"));
  if (args.probes !== undefined) problems.push(...validateProbeTimings(args.probes, "probes"));
  problems.push(...validateRolloutTimeout(args.rolloutTimeoutSeconds));
  for (const route of args.ingress?.routes ?? []) {
    if (!route.path.startsWith("/") || route.path === "/") {
      problems.push(
        `\`ingress.routes\` path "${route.path}" must start with / and not be the site root.`,
      );
    }
  }
  return problems;
}

/**
 * nginx serving the React SPA: a ConfigMap with the rendered nginx.conf (its hash on the pod
 * template, so a config change rolls the pods), a hardened Deployment, a Service, a
 * NetworkPolicy (ingress only from the ingress controller, no egress), a PodDisruptionBudget when
 * it runs two or more pods, and an optional Ingress.
 */
export class WebService extends pulumi.ComponentResource {
  public readonly configMap: k8s.core.v1.ConfigMap;
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  public readonly podDisruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
  public readonly ingress?: k8s.networking.v1.Ingress;
  /** The Service's name. */
  public readonly serviceName: pulumi.Output<string>;
  /** The Service's port. */
  public readonly servicePort = 80;
  /** The rendered nginx.conf. */
  public readonly nginxConf: string;
  /** Public URL when an Ingress is configured, else the in-cluster URL. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(WEB_SERVICE_TYPE, name, validateWebServiceArgs(args));
    super(WEB_SERVICE_TYPE, name, {}, opts);

    const replicas = args.replicas ?? WEB_DEFAULTS.replicas;
    const port = args.port ?? WEB_DEFAULTS.port;
    const resources = args.resources ?? WEB_DEFAULTS.resources;
    const probes = args.probes ?? WEB_DEFAULTS.probes;
    const deadline = rolloutDeadline(
      args.rolloutTimeoutSeconds ?? RECOVERY_DEFAULTS.rolloutTimeoutSeconds,
    );
    const nginxOptions = { ...args.nginx, port };
    const runDir = nginxOptions.runDir ?? NGINX_DEFAULTS.runDir;
    this.nginxConf = renderNginxConfig(nginxOptions);
    const confHash = crypto.createHash("sha256").update(this.nginxConf).digest("hex").slice(0, 16);

    const selector = selectorLabels(name, "web");
    const labels = standardLabels(name, "web", args.labels);
    const meta = (suffix: string) => ({
      name: `${name}${suffix}`,
      namespace: args.namespace,
      labels,
    });

    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-nginx`,
      { metadata: meta("-nginx"), data: { "nginx.conf": this.nginxConf } },
      { parent: this },
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { ...meta(""), annotations: RECLAIM_DRIFT_ANNOTATIONS },
        spec: {
          replicas,
          ...deadline.spec,
          revisionHistoryLimit: 5,
          selector: { matchLabels: selector },
          strategy: SAFE_ROLLING_UPDATE,
          template: {
            metadata: {
              labels,
              annotations: { "monkeytown.dev/nginx-conf-sha256": confHash },
            },
            spec: appPodSpec(
              [
                appContainer({
                  name: "nginx",
                  image: args.image,
                  port,
                  resources,
                  probes,
                  volumeMounts: [
                    {
                      name: "nginx-conf",
                      mountPath: "/etc/nginx/nginx.conf",
                      subPath: "nginx.conf",
                      readOnly: true,
                    },
                    { name: "run", mountPath: runDir },
                  ],
                  // nginx stops accepting at once on SIGQUIT: keep serving while endpoints update.
                  preStopSleepSeconds: GRACEFUL_SHUTDOWN.drainSeconds,
                }),
              ],
              [
                { name: "nginx-conf", configMap: { name: this.configMap.metadata.name } },
                { name: "run", emptyDir: { sizeLimit: "64Mi" } },
              ],
              { imagePullSecrets: args.imagePullSecrets, placement: args.placement },
            ),
          },
        },
      },
      { parent: this, customTimeouts: deadline.customTimeouts },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(""),
        spec: httpServiceSpec(selector, this.servicePort),
      },
      { parent: this },
    );
    this.serviceName = this.service.metadata.name;

    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(""),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              from: fromNamespaces(args.ingressNamespace ?? WEB_DEFAULTS.ingressNamespace),
              ports: [{ port: "http", protocol: "TCP" }],
            },
          ],
          // Static files only: the web pods talk to nobody (architecture seed §8.1).
          egress: [],
        },
      },
      { parent: this },
    );

    if (replicas >= 2) {
      this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: meta(""),
          spec: oneAtATimePdbSpec(selector),
        },
        { parent: this },
      );
    }

    if (args.ingress) {
      const ing = args.ingress;
      const backend = (serviceName: pulumi.Input<string>, number: number) => ({
        service: { name: serviceName, port: { number } },
      });
      this.ingress = new k8s.networking.v1.Ingress(
        `${name}-ingress`,
        {
          metadata: {
            ...meta(""),
            annotations: {
              ...(ing.clusterIssuer ? { "cert-manager.io/cluster-issuer": ing.clusterIssuer } : {}),
              // WebSocket connections at /ws stay open far longer than a page load.
              "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
              "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
            },
          },
          spec: {
            ingressClassName: ing.className ?? WEB_DEFAULTS.ingressClassName,
            tls: ing.clusterIssuer ? [{ hosts: [ing.host], secretName: `${name}-tls` }] : undefined,
            rules: [
              {
                host: ing.host,
                http: {
                  paths: [
                    ...(ing.routes ?? []).map((r) => ({
                      path: r.path,
                      pathType: "Prefix",
                      backend: backend(r.serviceName, r.servicePort),
                    })),
                    {
                      path: "/",
                      pathType: "Prefix",
                      backend: backend(this.serviceName, this.servicePort),
                    },
                  ],
                },
              },
            ],
          },
        },
        { parent: this },
      );
    }

    const scheme = args.ingress?.clusterIssuer ? "https" : "http";
    this.url = args.ingress
      ? pulumi.output(`${scheme}://${args.ingress.host}`)
      : pulumi.interpolate`http://${this.serviceName}.${args.namespace}.svc.cluster.local`;

    this.registerOutputs({ serviceName: this.serviceName, url: this.url });
  }
}
