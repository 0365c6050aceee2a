import { PolicyResource } from "@pulumi/policy";
import { parseQuantity } from "../lib/quantity";
import { minimumReplicas, sameNamespace, selects, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/** Pods a PDB keeps from being evicted, given the workload's replica count. */
function protectedPods(
  minAvailable: string | undefined,
  maxUnavailable: string | undefined,
  replicas: number,
): number | undefined {
  const amount = (v: string): number | undefined => {
    if (v.endsWith("%")) {
      const pct = parseQuantity(v.slice(0, -1));
      return pct === undefined ? undefined : (pct / 100) * replicas;
    }
    return parseQuantity(v);
  };
  if (minAvailable !== undefined) {
    const a = amount(minAvailable);
    return a === undefined ? undefined : Math.ceil(a);
  }
  if (maxUnavailable !== undefined) {
    const u = amount(maxUnavailable);
    // Kubernetes rounds a percentage of maxUnavailable up.
    return u === undefined ? undefined : replicas - Math.ceil(u);
  }
  return undefined;
}

/**
 * A PodDisruptionBudget leaves room for at least one voluntary eviction at the workload's minimum
 * replica count (its HPA's minReplicas, or spec.replicas): `minAvailable` below it, `maxUnavailable`
 * above 0. Otherwise every node drain blocks until someone deletes the PDB by hand.
 */
export function pdbBelowMinReplicas() {
  return stackRule<object>({
    name: "pdb-below-min-replicas",
    description:
      "A PodDisruptionBudget's minAvailable is below its workload's minimum replicas (HPA minReplicas).",
    checks:
      "A PDB leaves room for one eviction at the workload's floor: `minAvailable` below the HPA's `minReplicas` (or `spec.replicas`), `maxUnavailable` above 0; percentages resolved.",
    enforcementLevel: "mandatory",
    severity: "medium",
    peers:
      "kube-score (none); Polaris pdbMinAvailableGreaterThanHPAMinReplicas; kubesec (none); checkov (none); Kyverno pdb-maxunavailable",
    remediationSteps:
      "Use maxUnavailable: 1, or a minAvailable strictly below the HPA's minReplicas.",
    check(view, _config, report) {
      const reported = new Set<PolicyResource>();
      for (const sw of view.workloads) {
        const w = sw.workload;
        const min = minimumReplicas(view, sw);
        if (min === UNKNOWN || min === undefined || !w.replicated) continue;
        for (const p of view.pdbCandidates(w.podLabels)) {
          if (reported.has(p.resource) || !sameNamespace(p.namespace, w.namespace)) continue;
          if (selects(p.selector, w.podLabels) !== true) continue;
          if (p.minAvailable === UNKNOWN || p.maxUnavailable === UNKNOWN) continue;
          const kept = protectedPods(p.minAvailable, p.maxUnavailable, min);
          if (kept === undefined || kept < min) continue;
          reported.add(p.resource);
          const setting =
            p.minAvailable !== undefined
              ? `minAvailable: ${p.minAvailable}`
              : `maxUnavailable: ${p.maxUnavailable}`;
          report(
            p.resource,
            `PodDisruptionBudget "${p.name}" (${setting}) protects ${kept} of the ${min} replicas ${w.kind} "${w.name}" runs at minimum, so no pod can ever be evicted voluntarily: node drains and cluster upgrades hang. Fix: use maxUnavailable: 1, or minAvailable below ${min}.`,
          );
        }
      }
    },
  });
}
