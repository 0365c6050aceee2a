import { StackWorkload, inNamespace, sameNamespace, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/** Kinds with a `scale` subresource that the pack knows as workloads. */
const SCALABLE = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

/**
 * Every HorizontalPodAutoscaler's `scaleTargetRef` names a Deployment, StatefulSet, ReplicaSet or
 * ReplicationController of the stack in its namespace. One that names nothing scales nothing: the
 * workload it was meant for keeps its replica count whatever the load. Targets of other kinds
 * (custom resources with a scale subresource) are not checked.
 */
export function hpaTargetsWorkload() {
  return stackRule<object>({
    name: "hpa-targets-workload",
    description: "Every HorizontalPodAutoscaler scales a workload of the stack in its namespace.",
    checks:
      "Every HPA's `scaleTargetRef` names a Deployment, StatefulSet, ReplicaSet or ReplicationController of the stack in its namespace. Other kinds (custom resources with a scale subresource) are not checked; a name not known in preview is checked at `up`.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score horizontalpodautoscaler-has-target; Polaris (none); kubesec (none); checkov (none)",
    remediationSteps:
      "Set scaleTargetRef to the kind, apiVersion and metadata.name of the workload to scale (pass the workload's metadata.name output, not a literal).",
    check(view, _config, report) {
      const byName = new Map<string, StackWorkload[]>();
      for (const sw of view.workloads) {
        const list = byName.get(sw.workload.name);
        if (list) list.push(sw);
        else byName.set(sw.workload.name, [sw]);
      }
      for (const h of view.hpas) {
        // During preview an auto-named target's name is not known yet: checked again during up.
        if (h.targetKind === UNKNOWN || h.targetName === UNKNOWN) continue;
        if (typeof h.targetKind === "string" && !SCALABLE.has(h.targetKind)) continue;
        const found =
          h.targetName !== undefined &&
          (byName.get(h.targetName) ?? []).some(
            (sw) =>
              sw.workload.name === h.targetName &&
              (h.targetKind === undefined || sw.workload.kind === h.targetKind) &&
              sameNamespace(sw.workload.namespace, h.namespace),
          );
        if (found) continue;
        report(
          h.resource,
          `HorizontalPodAutoscaler "${h.name}" scales ${h.targetKind ?? "a workload"} "${h.targetName ?? "(no name)"}", which the stack does not have ${inNamespace(h.namespace)}: it scales nothing and the workload it was meant for never grows with load. Fix: point scaleTargetRef at the workload's kind and metadata.name.`,
        );
      }
    },
  });
}
