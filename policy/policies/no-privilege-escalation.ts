import { workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

const WHY =
  "Unless it is explicitly false, a setuid binary in the image (or a file capability) can give the process more privileges than it started with; Kubernetes defaults it to true.";

/**
 * Every container sets `allowPrivilegeEscalation: false` explicitly (there is no pod-level field;
 * Kubernetes' default is true). A `docker.Container` sets the `no-new-privileges` security option.
 */
export function noPrivilegeEscalation() {
  return workloadRule<object>({
    name: "no-privilege-escalation",
    description: "Containers set allowPrivilegeEscalation: false.",
    checks:
      "`allowPrivilegeEscalation: false` set explicitly on every container (Kubernetes defaults to true). Docker: `no-new-privileges`.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "Polaris privilegeEscalationAllowed; kubesec AllowPrivilegeEscalation; Kyverno PSS restricted disallow-privilege-escalation; checkov CKV_K8S_20; kube-score (none)",
    remediationSteps:
      "Set securityContext.allowPrivilegeEscalation: false on every container and init container.",
    workload(w, _config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const ape = c.securityContext.allowPrivilegeEscalation;
        if (ape === UNKNOWN || ape === false) continue;
        report(
          `${describeContainer(w, c)} ${ape === true ? "sets allowPrivilegeEscalation: true" : "does not set allowPrivilegeEscalation: false"}. ${WHY} Fix: set securityContext.allowPrivilegeEscalation: false.`,
        );
      }
    },
    docker(c, _config, report) {
      if (c.securityOpts === UNKNOWN) return;
      if (c.securityOpts.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o.trim()))) return;
      report(
        `${describeDocker(c)} does not set the no-new-privileges security option. ${WHY} Fix: add securityOpts: ["no-new-privileges:true"].`,
      );
    },
  });
}
