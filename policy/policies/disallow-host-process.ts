import { workloadRule } from "../lib/rule";
import { UNKNOWN, bool, field, obj } from "../lib/values";
import { securityContextSites } from "../lib/workload";

/**
 * No `windowsOptions.hostProcess: true` in the pod's or any container's securityContext (Pod
 * Security baseline "HostProcess"). Docker has no equivalent.
 */
export function disallowHostProcess() {
  return workloadRule<object>({
    name: "disallow-host-process",
    description: "No Windows HostProcess containers.",
    checks: "No `windowsOptions.hostProcess: true` at pod or container level.",
    enforcementLevel: "advisory",
    severity: "critical",
    peers:
      "Kyverno PSS baseline disallow-host-process; Pod Security admission baseline (HostProcess); kube-score, Polaris, kubesec, checkov: none",
    remediationSteps: "Remove windowsOptions.hostProcess (or set it to false).",
    workload(w, _config, report) {
      for (const site of securityContextSites(w)) {
        const win = obj(field(site.sc, "windowsOptions"));
        if (win === UNKNOWN || win === undefined) continue;
        if (bool(field(win, "hostProcess")) !== true) continue;
        report(
          `${site.subject} sets ${site.path}.windowsOptions.hostProcess: true. A HostProcess container runs as a process on the Windows node itself, with the node's network and filesystem: it is administrator on the node. Fix: remove hostProcess (or set it to false); node agents that need it belong in a separately reviewed, waived workload.`,
        );
      }
    },
  });
}
