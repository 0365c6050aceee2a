import { describeSelector, inNamespace, podIndex, stackRule } from "../lib/stack";

/**
 * Every PodDisruptionBudget selects the pods of a workload in its namespace. One that selects
 * nothing protects nothing: a node drain may then evict every replica of the workload it was meant
 * for at once (policy/v1: a PDB without a selector selects no pod).
 */
export function pdbTargetsPods() {
  return stackRule<object>({
    name: "pdb-targets-pods",
    description: "Every PodDisruptionBudget selects a workload's pods in its namespace.",
    checks:
      "Every PodDisruptionBudget selects the pods of a workload in its namespace (policy/v1: no selector selects nothing).",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score (none: it checks the reverse, deployment-has-poddisruptionbudget); Polaris (none); kubesec (none); checkov (none)",
    remediationSteps:
      "Make spec.selector a subset of the pod template labels of the workload the budget protects.",
    check(view, _config, report) {
      const pods = podIndex(view);
      for (const p of view.pdbs) {
        if (pods.select(p.selector, p.namespace, 1).length > 0) continue;
        report(
          p.resource,
          `PodDisruptionBudget "${p.name}" selects ${describeSelector(p.selector)} but no pod of a workload ${inNamespace(p.namespace)} carries those labels, so it protects nothing: a node drain may evict every replica at once. Fix: make spec.selector a subset of the pod template labels of the workload it protects.`,
        );
      }
    },
  });
}
