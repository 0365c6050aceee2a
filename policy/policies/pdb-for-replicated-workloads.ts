import { configSchema } from "../lib/rule";
import { minimumReplicas, sameNamespace, selects, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

export interface PdbCoverageConfig {
  /** Workloads running at least this many replicas need a PodDisruptionBudget. */
  minReplicas: number;
}

/**
 * Every Deployment or StatefulSet that runs 2 or more replicas (its HPA's minReplicas when it has
 * one) is selected by a PodDisruptionBudget in its namespace, so a node drain cannot take all
 * replicas down at once.
 */
export function pdbForReplicatedWorkloads() {
  return stackRule<PdbCoverageConfig>({
    name: "pdb-for-replicated-workloads",
    description: "Replicated Deployments and StatefulSets are covered by a PodDisruptionBudget.",
    checks:
      "Every Deployment/StatefulSet running ≥ 2 replicas (HPA floor counts) is selected by a PodDisruptionBudget in its namespace (matchLabels and matchExpressions).",
    enforcementLevel: "mandatory",
    severity: "medium",
    peers:
      "kube-score deployment-has-poddisruptionbudget, statefulset-has-poddisruptionbudget; Polaris missingPodDisruptionBudget; kubesec (none); checkov (none); Kyverno require-pdb (best practices)",
    remediationSteps:
      "Create a policy/v1 PodDisruptionBudget whose selector matches the pod template labels (maxUnavailable: 1).",
    configSchema: configSchema({
      minReplicas: {
        type: "integer",
        minimum: 1,
        default: 2,
        description: "Replica count from which a PDB is required.",
      },
    }),
    check(view, config, report) {
      for (const sw of view.workloads) {
        const w = sw.workload;
        if (w.kind !== "Deployment" && w.kind !== "StatefulSet") continue;
        const replicas = minimumReplicas(view, sw);
        if (replicas === UNKNOWN || replicas === undefined || replicas < config.minReplicas)
          continue;
        const covered = view
          .pdbCandidates(w.podLabels)
          .some(
            (p) =>
              sameNamespace(p.namespace, w.namespace) && selects(p.selector, w.podLabels) !== false,
          );
        if (!covered) {
          report(
            sw.resource,
            `${w.kind} "${w.name}" runs ${replicas} replicas but no PodDisruptionBudget selects its pods. A node drain or cluster upgrade may then evict every replica at once. Fix: add a PodDisruptionBudget with maxUnavailable: 1 and a selector matching its pod labels.`,
          );
        }
      }
    },
  });
}
