import { configSchema, workloadRule } from "../lib/rule";
import { UNKNOWN, field, items, obj, str } from "../lib/values";
import { describeWorkload } from "../lib/workload";

export interface RestrictSysctlsConfig {
  /** Sysctl names a pod may set. */
  allowedSysctls: string[];
}

/**
 * The Pod Security baseline "safe" set: namespaced per pod and isolated from other pods on the
 * node. The last five were added in Kubernetes 1.27 and 1.29; Kyverno's policy lists the first five.
 */
export const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];

/** `kernel/shm_rmid_forced` is the same sysctl as `kernel.shm_rmid_forced` (the kubelet swaps the separators). */
function canonical(name: string): string {
  return name.includes("/") ? name.replace(/[./]/g, (ch) => (ch === "/" ? "." : "/")) : name;
}

/** `spec.securityContext.sysctls` names only from the allowed (by default Pod Security's safe) set. */
export function restrictSysctls() {
  return workloadRule<RestrictSysctlsConfig>({
    name: "restrict-sysctls",
    description: "Pods set only sysctls from the safe set.",
    checks:
      "`spec.securityContext.sysctls` names only from the allow-list (default: the Pod Security baseline safe set as of Kubernetes 1.29: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, `ip_unprivileged_port_start`, `tcp_syncookies`, `ping_group_range`, `ip_local_reserved_ports`, `tcp_keepalive_time`, `tcp_fin_timeout`, `tcp_keepalive_intvl`, `tcp_keepalive_probes`); the slash form (`kernel/shm_rmid_forced`) is read as the same sysctl.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "Kyverno PSS baseline restrict-sysctls (the first five names); Pod Security admission baseline (sysctls); kube-score, Polaris, kubesec, checkov: none",
    remediationSteps:
      "Remove the sysctl from spec.securityContext.sysctls; set node-wide kernel parameters on the node, not from a pod.",
    configSchema: configSchema({
      allowedSysctls: {
        type: "array",
        items: { type: "string" },
        default: SAFE_SYSCTLS,
        description:
          "Sysctl names a pod may set (default: the Pod Security baseline safe set, Kubernetes 1.29).",
      },
    }),
    workload(w, config, report) {
      const list = items(field(w.podSecurityContext, "sysctls"));
      if (list === UNKNOWN) return;
      for (const s of list) {
        const name = str(field(obj(s), "name"));
        if (name === UNKNOWN || name === undefined) continue;
        if (config.allowedSysctls.includes(canonical(name))) continue;
        report(
          `${describeWorkload(w)} sets sysctl "${name}" in spec.securityContext.sysctls, which is not in the safe set. Sysctls outside it are either not isolated per pod (they change the kernel for every pod on the node) or can weaken its defences. Fix: remove it and tune the node instead, or add it to allowedSysctls if it is reviewed as namespaced and isolated.`,
        );
      }
    },
  });
}
