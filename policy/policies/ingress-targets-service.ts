import { ServiceView, inNamespace, sameNamespace, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

/**
 * Every Service backend of every Ingress (rules and default backend) is a Service of the stack in
 * the Ingress's namespace, and the port it names (number or name) is one that Service exposes.
 * Otherwise the ingress controller answers that path with 503.
 */
export function ingressTargetsService() {
  return stackRule<object>({
    name: "ingress-targets-service",
    description: "Every Ingress backend is a Service of the stack, on a port it exposes.",
    checks:
      "Every Service backend of an Ingress (rules and default backend; `networking.k8s.io/v1` and `v1beta1` shapes) is a Service of the stack in its namespace, on a port number or name the Service exposes.",
    enforcementLevel: "advisory",
    severity: "high",
    peers: "kube-score ingress-targets-service; Polaris (none); kubesec (none); checkov (none)",
    remediationSteps:
      "Point each backend at the Service's metadata.name output and at a port number or name the Service declares.",
    check(view, _config, report) {
      const byName = new Map<string, ServiceView[]>();
      for (const s of view.services) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
      for (const ing of view.ingresses) {
        if (ing.backends === UNKNOWN) continue;
        const reported = new Set<string>();
        for (const b of ing.backends) {
          if (typeof b.serviceName !== "string") continue;
          const services = (byName.get(b.serviceName) ?? []).filter((s) =>
            sameNamespace(s.namespace, ing.namespace),
          );
          const port =
            typeof b.portName === "string"
              ? `"${b.portName}"`
              : typeof b.portNumber === "number"
                ? String(b.portNumber)
                : undefined;
          const key = `${b.serviceName}\u0000${port ?? ""}`;
          if (reported.has(key)) continue;
          if (services.length === 0) {
            reported.add(key);
            report(
              ing.resource,
              `Ingress "${ing.name}" sends traffic to Service "${b.serviceName}", which the stack does not have ${inNamespace(ing.namespace)}: the ingress controller answers those paths with 503. Fix: use the Service's metadata.name output as the backend.`,
            );
            continue;
          }
          if (b.portName === UNKNOWN || b.portNumber === UNKNOWN || port === undefined) continue;
          const exposes = services.some(
            (s) =>
              s.ports === UNKNOWN ||
              s.ports.some((p) =>
                typeof b.portName === "string"
                  ? p.name === UNKNOWN || p.name === b.portName
                  : p.port === UNKNOWN || p.port === b.portNumber,
              ),
          );
          if (exposes) continue;
          reported.add(key);
          report(
            ing.resource,
            `Ingress "${ing.name}" sends traffic to port ${port} of Service "${b.serviceName}", which the Service does not expose: the ingress controller answers those paths with 503. Fix: use a port number or name the Service declares.`,
          );
        }
      }
    },
  });
}
