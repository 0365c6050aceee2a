import { configSchema } from "../lib/rule";
import { sameNamespace, selects, stackRule } from "../lib/stack";
import { UNKNOWN } from "../lib/values";

export interface NetworkPolicyCoverageConfig {
  /** Namespaces whose workloads are not checked. */
  exemptNamespaces: string[];
}

/**
 * Every workload's pods are selected by at least one NetworkPolicy in their namespace, so that
 * their traffic is default-deny plus what is declared (an empty podSelector counts).
 */
export function networkPolicyCoverage() {
  return stackRule<NetworkPolicyCoverageConfig>({
    name: "network-policy-coverage",
    description: "Every workload is selected by a NetworkPolicy.",
    checks:
      "Every workload's pods are selected by a NetworkPolicy in their namespace (an empty podSelector counts).",
    enforcementLevel: "mandatory",
    severity: "high",
    peers:
      "kube-score pod-networkpolicy; Polaris missingNetworkPolicy; kubesec (none); checkov (none); Kyverno add-networkpolicy (generate)",
    remediationSteps:
      "Create a NetworkPolicy per workload whose podSelector matches its pod labels, allowing only the traffic it needs.",
    configSchema: configSchema({
      exemptNamespaces: {
        type: "array",
        items: { type: "string" },
        default: ["kube-system"],
        description: "Namespaces whose workloads need no NetworkPolicy.",
      },
    }),
    check(view, config, report) {
      for (const sw of view.workloads) {
        const w = sw.workload;
        if (w.kind === "PodTemplate") continue;
        if (typeof w.namespace === "string" && config.exemptNamespaces.includes(w.namespace))
          continue;
        if (w.podLabels === UNKNOWN) continue;
        const covered = view
          .networkPolicyCandidates(w.podLabels)
          .some(
            (np) =>
              sameNamespace(np.namespace, w.namespace) &&
              selects(np.podSelector, w.podLabels) !== false,
          );
        if (!covered) {
          report(
            sw.resource,
            `${w.kind} "${w.name}" is not selected by any NetworkPolicy, so its pods accept traffic from, and can reach, every pod in the cluster. Fix: add a NetworkPolicy whose podSelector matches its pod labels and allows only the ingress/egress it needs.`,
          );
        }
      }
    },
  });
}
