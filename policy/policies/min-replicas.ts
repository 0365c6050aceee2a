import { configSchema } from "../lib/rule";
import { minimumReplicas, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

export interface MinReplicasConfig {
  /** Fewest replicas a Deployment or StatefulSet may run with (HPA minReplicas counts). */
  minReplicas: number;
}

/**
 * Deployments and StatefulSets run at least `minReplicas` replicas (2 in production): counted from
 * the HPA's minReplicas when an HPA scales the workload, which a per-resource check cannot see.
 */
export function minReplicas() {
  return stackRule<MinReplicasConfig>({
    name: "min-replicas",
    description: "Deployments and StatefulSets run at least the configured number of replicas.",
    checks:
      "Deployments and StatefulSets run at least `minReplicas`, counting the HPA's `minReplicas` when an HPA scales them.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers: "kube-score (none); Polaris deploymentMissingReplicas; kubesec (none); checkov (none)",
    remediationSteps: "Raise spec.replicas, or the HPA's minReplicas when one scales the workload.",
    configSchema: configSchema({
      minReplicas: {
        type: "integer",
        minimum: 1,
        default: 1,
        description: "Fewest replicas accepted.",
      },
    }),
    check(view, config, report) {
      for (const sw of view.workloads) {
        const w = sw.workload;
        if (w.kind !== "Deployment" && w.kind !== "StatefulSet") continue;
        const n = minimumReplicas(view, sw);
        if (n === UNKNOWN || n === undefined || n >= config.minReplicas) continue;
        report(
          sw.resource,
          `${w.kind} "${w.name}" runs ${n} replica${n === 1 ? "" : "s"} at minimum, fewer than the ${config.minReplicas} this stack requires. One pod restart or node failure is then an outage. Fix: raise spec.replicas (or the HPA's minReplicas) to at least ${config.minReplicas}.`,
        );
      }
    },
  });
}
