import { ServiceView, describeSelector, sameNamespace, selects, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/**
 * Every ServiceMonitor (Prometheus operator) selects at least one Service of the stack in the
 * namespaces it watches, and each endpoint's `port` is the name of a port of a selected Service.
 * Otherwise Prometheus scrapes nothing: `up` for the job is absent, a site-down alert built on it
 * fires forever, and every alert on the job's metrics never fires.
 */
export function serviceMonitorTargetsService() {
  return stackRule<object>({
    name: "service-monitor-targets-service",
    description:
      "Every ServiceMonitor selects a Service of the stack, and scrapes a port name that Service has.",
    checks:
      "Every ServiceMonitor (`monitoring.coreos.com/v1`) selects a Service of the stack by the Service's own labels (not its pod selector) within its `namespaceSelector` (`matchNames`, `any: true`, or its own namespace), and each endpoint's `port` is a port name of a selected Service.",
    enforcementLevel: "advisory",
    severity: "high",
    peers: "kube-score (none); Polaris (none); kubesec (none); checkov (none); Kyverno (none)",
    remediationSteps:
      "Select the Service by labels its metadata carries (not its pod selector), within spec.namespaceSelector, and name an endpoint port the Service declares.",
    check(view, _config, report) {
      for (const m of view.monitors) {
        if (m.kind !== "ServiceMonitor" || m.namespaces === UNKNOWN) continue;
        const watched = m.namespaces;
        const inScope = (s: ServiceView) =>
          "any" in watched || watched.names.some((n) => sameNamespace(n, s.namespace));
        // A ServiceMonitor's selector is required; an empty one selects every Service.
        const selector = m.selector ?? {};
        const services = view.services.filter(
          (s) => inScope(s) && selects(selector, s.labels) !== false,
        );
        const where =
          "any" in watched
            ? "in any namespace"
            : `in ${watched.names.map((n) => `"${typeof n === "string" ? n : "?"}"`).join(", ")}`;
        if (services.length === 0) {
          report(
            m.resource,
            `ServiceMonitor "${m.name}" selects Services labelled ${describeSelector(selector)} ${where}, but no Service carries those labels: Prometheus scrapes nothing, so the job's \`up\` series is absent and every alert on its metrics is blind. Fix: select by labels the Service's metadata carries (a Service's labels are not its pod selector).`,
          );
          continue;
        }
        if (m.ports === UNKNOWN) continue;
        for (const port of m.ports) {
          if (typeof port !== "string") continue;
          const has = services.some(
            (s) =>
              s.ports === UNKNOWN || s.ports.some((p) => p.name === UNKNOWN || p.name === port),
          );
          if (has) continue;
          report(
            m.resource,
            `ServiceMonitor "${m.name}" scrapes the port named "${port}", which ${services.map((s) => `Service "${s.name}"`).join(", ")} does not declare: Prometheus finds no target. Fix: name the Service port "${port}", or scrape a port name the Service has.`,
          );
        }
      }
    },
  });
}
