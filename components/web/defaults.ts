/**
 * Defaults of the WebService's arguments, applied by the component (./index.ts) and, for the keys the
 * stack config has, by config/schema.ts. A module without the Pulumi SDK, so the config parser loads
 * none.
 */
import { CLUSTER_NAMESPACE_DEFAULTS, DEFAULT_PROBE_TIMINGS, type ResourceSpec } from "../k8s";
import { NGINX_DEFAULTS } from "./nginx";

/** Architecture seed §3.1: the static web container's resource profile. */
const WEB_RESOURCES: ResourceSpec = {
  requests: { cpu: "100m", memory: "64Mi" },
  limits: { cpu: "200m", memory: "128Mi" },
};

export const WEB_DEFAULTS = {
  replicas: 1,
  port: NGINX_DEFAULTS.port,
  resources: WEB_RESOURCES,
  probes: DEFAULT_PROBE_TIMINGS,
  ingressNamespace: CLUSTER_NAMESPACE_DEFAULTS.ingress,
  ingressClassName: "nginx",
} as const;
