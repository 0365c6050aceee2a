import {
  describeSelector,
  podWorkloads,
  sameNamespace,
  selects,
  someDeclaresPort,
  stackRule,
} from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/**
 * Every PodMonitor (Prometheus operator) selects the pods of at least one workload of the stack in
 * the namespaces it watches, and each `podMetricsEndpoints[].port` is a container port name of those
 * pods. Otherwise Prometheus scrapes nothing and the alerts on those metrics are blind.
 */
export function podMonitorTargetsPods() {
  return stackRule<object>({
    name: "pod-monitor-targets-pods",
    description:
      "Every PodMonitor selects a workload's pods, and scrapes a container port name they declare.",
    checks:
      "Every PodMonitor selects the pods of a workload within its `namespaceSelector`, and each `podMetricsEndpoints[].port` is a container port name of those pods.",
    enforcementLevel: "advisory",
    severity: "high",
    peers: "kube-score (none); Polaris (none); kubesec (none); checkov (none); Kyverno (none)",
    remediationSteps:
      "Select the pods by their template labels, within spec.namespaceSelector, and name a container port they declare.",
    check(view, _config, report) {
      for (const m of view.monitors) {
        if (m.kind !== "PodMonitor" || m.namespaces === UNKNOWN) continue;
        const watched = m.namespaces;
        const selector = m.selector ?? {};
        const pods = podWorkloads(view).filter(
          (sw) =>
            ("any" in watched ||
              watched.names.some((n) => sameNamespace(n, sw.workload.namespace))) &&
            selects(selector, sw.workload.podLabels) !== false,
        );
        if (pods.length === 0) {
          report(
            m.resource,
            `PodMonitor "${m.name}" selects pods labelled ${describeSelector(selector)}, but no workload's pods carry those labels: Prometheus scrapes nothing and every alert on those metrics is blind. Fix: select by the pod template labels of the workload to scrape.`,
          );
          continue;
        }
        if (m.ports === UNKNOWN) continue;
        for (const port of m.ports) {
          if (typeof port !== "string" || someDeclaresPort(pods, port)) continue;
          report(
            m.resource,
            `PodMonitor "${m.name}" scrapes the port named "${port}", which no container of the selected pods declares: Prometheus finds no target. Fix: name the container port "${port}", or scrape a port name the containers have.`,
          );
        }
      }
    },
  });
}
