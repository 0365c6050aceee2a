import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker, dockerSecurityOpts } from "../lib/docker";
import { UNKNOWN, field, obj, str } from "../lib/values";
import { securityContextSites } from "../lib/workload";

export interface RestrictSelinuxConfig {
  /** SELinux types a pod or container may run as ("" is always allowed: the runtime's default). */
  allowedTypes: string[];
}

const WHY =
  "A custom SELinux type (spc_t, unconfined_t ...) or user/role lifts the confinement that keeps a compromised container away from the node and the other pods' files.";

/**
 * `seLinuxOptions.type` only from the container types, and no `user` or `role`, in the pod's and
 * every container's securityContext (Pod Security baseline "SELinux"). Docker: no `label=disable`,
 * `label=user:`/`role:`, and `label=type:` only from the same types.
 */
export function restrictSelinux() {
  return workloadRule<RestrictSelinuxConfig>({
    name: "restrict-selinux",
    description:
      "Pods and containers run under the container SELinux types, with no custom user or role.",
    checks:
      "`seLinuxOptions.type` empty or an allowed type, and no `user` or `role`, in the pod's securityContext and each container's own (a bad pod-level value is reported once, on the pod, even where every container overrides it). Docker: no `label=disable`, `label=user:`/`role:`, `label=type:` only from the allowed types.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "Kyverno PSS baseline disallow-selinux; Pod Security admission baseline (seLinuxOptions; 1.31+ also allows `container_engine_t`); kube-score, Polaris, kubesec, checkov: none",
    remediationSteps:
      "Remove seLinuxOptions (or keep only level, and type container_t); never set user or role.",
    configSchema: configSchema({
      allowedTypes: {
        type: "array",
        items: { type: "string" },
        default: ["container_t", "container_init_t", "container_kvm_t"],
        description:
          'SELinux types allowed in seLinuxOptions.type ("" is always allowed; Kubernetes 1.31+ Pod Security also allows container_engine_t).',
      },
    }),
    workload(w, config, report) {
      for (const site of securityContextSites(w)) {
        const se = obj(field(site.sc, "seLinuxOptions"));
        if (se === UNKNOWN || se === undefined) continue;
        const problems: string[] = [];
        const type = str(field(se, "type"));
        if (typeof type === "string" && type !== "" && !config.allowedTypes.includes(type)) {
          problems.push(`type "${type}"`);
        }
        for (const key of ["user", "role"]) {
          const v = str(field(se, key));
          if (typeof v === "string" && v !== "") problems.push(`${key} "${v}"`);
        }
        if (problems.length === 0) continue;
        report(
          `${site.subject} sets ${site.path}.seLinuxOptions ${problems.join(", ")}. ${WHY} Fix: remove ${problems.map((p) => p.split(" ")[0]).join(" and ")} from seLinuxOptions (allowed types: ${config.allowedTypes.join(", ")}).`,
        );
      }
    },
    docker(c, config, report) {
      const opts = dockerSecurityOpts(c);
      if (opts === UNKNOWN) return;
      for (const [k, v] of opts) {
        if (k !== "label") continue;
        const [sub, ...rest] = v.split(":");
        const value = rest.join(":");
        const bad =
          v.toLowerCase() === "disable" ||
          sub === "user" ||
          sub === "role" ||
          (sub === "type" && value !== "" && !config.allowedTypes.includes(value));
        if (!bad) continue;
        report(
          `${describeDocker(c)} sets the security option label=${v}. ${WHY} Fix: remove the option.`,
        );
      }
    },
  });
}
