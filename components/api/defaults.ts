/**
 * Defaults of the ApiService's arguments, applied by the component (./index.ts) and, for the keys the
 * stack config has, by config/schema.ts. A module without the Pulumi SDK, so the config parser loads
 * none.
 */
import { CLUSTER_NAMESPACE_DEFAULTS, DEFAULT_PROBE_TIMINGS, type ResourceSpec } from "../k8s";

/** Architecture seed §3.2: the Node runtime container's resource profile. */
const API_RESOURCES: ResourceSpec = {
  requests: { cpu: "200m", memory: "256Mi" },
  limits: { cpu: "1000m", memory: "512Mi" },
};

export const API_DEFAULTS = {
  port: 3000,
  replicas: 1,
  resources: API_RESOURCES,
  probes: DEFAULT_PROBE_TIMINGS,
  /** Target average CPU utilisation of the autoscaler, percent: the seed's "scale up" threshold. */
  targetCpuUtilization: 70,
  ingressNamespace: CLUSTER_NAMESPACE_DEFAULTS.ingress,
  monitoringNamespace: CLUSTER_NAMESPACE_DEFAULTS.monitoring,
} as const;
