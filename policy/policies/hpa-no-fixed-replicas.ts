import { hpaFor, stackRule } from "../lib/stack";

/**
 * A workload scaled by a HorizontalPodAutoscaler sets no `spec.replicas`: otherwise every
 * `pulumi up` resets the replica count the HPA chose (pulumi/pulumi#13321), scaling production
 * down mid-traffic.
 *
 * Judged on what the program asked for (`replicaIntent`), not on the value on the object: on a
 * live cluster the API server defaults `spec.replicas` and the HPA then writes it, so the stack
 * policy's props (outputs) always carry one. There, Pulumi's server-side-apply record tells whether
 * Pulumi sent it; where no such record exists the rule stays silent rather than guess.
 */
export function hpaNoFixedReplicas() {
  return stackRule<object>({
    name: "hpa-no-fixed-replicas",
    description: "Workloads managed by an HPA do not set spec.replicas.",
    checks:
      "A workload scaled by an HPA sets no `spec.replicas` (pulumi/pulumi#13321), judged on what the program sent (live: Pulumi's `managedFields`; see below). Matches by `scaleTargetRef`, or, when the target name is unknown in preview, by the HPA's dependency.",
    enforcementLevel: "mandatory",
    severity: "high",
    peers:
      "kube-score deployment-targeted-by-hpa-does-not-have-replicas-configured; Polaris (none); kubesec (none); checkov (none)",
    remediationSteps:
      "Omit spec.replicas on the Deployment when an HPA targets it; set the floor with the HPA's minReplicas.",
    check(view, _config, report) {
      for (const sw of view.workloads) {
        const w = sw.workload;
        if (!w.replicated || sw.replicasSet !== true) continue;
        const hpa = hpaFor(view, sw);
        if (!hpa) continue;
        report(
          sw.resource,
          `${w.kind} "${w.name}" sets spec.replicas but HorizontalPodAutoscaler "${hpa.name}" scales it. Each deployment then resets the replica count the HPA chose. Fix: remove spec.replicas and set the floor with the HPA's minReplicas.`,
        );
      }
    },
  });
}
