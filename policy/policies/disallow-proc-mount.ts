import { workloadRule } from "../lib/rule";
import { describeDocker, dockerSecurityOpts } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

const WHY =
  "The runtime normally masks and mounts read-only the parts of /proc that expose the node (/proc/kcore, /proc/sys, /proc/sysrq-trigger ...); an unmasked /proc hands them to the container.";

/**
 * No container sets `securityContext.procMount` to anything but `Default` (Pod Security baseline
 * "/proc mount type"). Docker: no `systempaths=unconfined` security option, the same switch.
 */
export function disallowProcMount() {
  return workloadRule<object>({
    name: "disallow-proc-mount",
    description: "Containers keep the default, masked /proc mount.",
    checks:
      "`securityContext.procMount` unset or `Default` on every container, init and ephemeral included. Docker: no `systempaths=unconfined` security option.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "Kyverno PSS baseline disallow-proc-mount; Pod Security admission baseline (procMount); kube-score, Polaris, kubesec, checkov: none",
    remediationSteps: "Remove securityContext.procMount (or set it to Default).",
    workload(w, _config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const pm = c.securityContext.procMount;
        if (pm === UNKNOWN || pm === undefined || pm === "Default") continue;
        report(
          `${describeContainer(w, c)} sets securityContext.procMount: "${pm}". ${WHY} Fix: remove procMount (or set it to Default).`,
        );
      }
    },
    docker(c, _config, report) {
      const opts = dockerSecurityOpts(c);
      if (opts === UNKNOWN) return;
      if (opts.some(([k, v]) => k === "systempaths" && v.toLowerCase() === "unconfined")) {
        report(
          `${describeDocker(c)} sets the security option systempaths=unconfined. ${WHY} Fix: remove the option.`,
        );
      }
    },
  });
}
