import { describeSelector, inNamespace, podIndex, someDeclaresPort, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/**
 * Every Service with a selector selects the pods of a workload in its namespace, and each named
 * `targetPort` is a port name those pods' containers declare. A Service that selects nothing has no
 * endpoints: whatever sends traffic to it (an Ingress, another service, a ServiceMonitor) fails.
 */
export function serviceTargetsPods() {
  return stackRule<object>({
    name: "service-targets-pods",
    description:
      "Every Service with a selector selects a workload's pods in its namespace, and its named targetPorts exist on them.",
    checks:
      "Every Service with a selector selects the pods of a workload in its namespace (pod template labels), and each named `targetPort` is a container port name of those pods. `ExternalName` Services and Services without a selector are skipped.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "kube-score service-targets-pod; Polaris (none); kubesec (none); checkov (none); Kyverno (none)",
    remediationSteps:
      "Make spec.selector a subset of the pod template labels of the workload the Service fronts, and each named targetPort a port name its containers declare.",
    check(view, _config, report) {
      const services = view.services.filter(
        (s) => s.selector !== undefined && s.type !== "ExternalName",
      );
      const pods = podIndex(view);
      for (const s of services) {
        if (pods.select(s.selector, s.namespace, 1).length === 0) {
          report(
            s.resource,
            `Service "${s.name}" selects ${describeSelector(s.selector)} but no pod of a workload ${inNamespace(s.namespace)} carries those labels, so it has no endpoints and every request sent to it fails. Fix: make spec.selector a subset of the pod template labels of the workload it fronts.`,
          );
          continue;
        }
        if (s.ports === UNKNOWN) continue;
        const named = s.ports.filter((p) => typeof p.targetPort === "string");
        if (named.length === 0) continue;
        const selected = pods.select(s.selector, s.namespace);
        for (const port of named) {
          const target = port.targetPort as string;
          if (someDeclaresPort(selected, target)) continue;
          const names = selected
            .map((sw) => `${sw.workload.kind} "${sw.workload.name}"`)
            .join(", ");
          report(
            s.resource,
            `Service "${s.name}" port ${String(port.port ?? port.name ?? "?")} targets the port named "${target}", which no container of ${names} declares, so that port has no endpoints. Fix: name the container port "${target}", or set targetPort to a name or number the containers use.`,
          );
        }
      }
    },
  });
}
