import { workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

const WHY =
  "A writable root filesystem lets an attacker drop tools or modify the application in place, and hides state that is lost on restart.";

/** Every container (init and ephemeral ones included) sets `readOnlyRootFilesystem: true`. */
export function readOnlyRootFilesystem() {
  return workloadRule<object>({
    name: "read-only-root-filesystem",
    description: "Containers run with a read-only root filesystem.",
    checks: "`readOnlyRootFilesystem: true` on every container. Docker: `readOnly`.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score container-security-context-readonlyrootfilesystem; Polaris notReadOnlyRootFilesystem; kubesec ReadOnlyRootFilesystem; checkov CKV_K8S_22; Kyverno require-ro-rootfs (best practices, not PSS)",
    remediationSteps:
      "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir wherever the process must write (nginx: /var/cache/nginx, /var/run, /tmp).",
    workload(w, _config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const ro = c.securityContext.readOnlyRootFilesystem;
        if (ro === UNKNOWN || ro === true) continue;
        report(
          `${describeContainer(w, c)} ${ro === false ? "sets readOnlyRootFilesystem: false" : "does not set readOnlyRootFilesystem: true"}. ${WHY} Fix: set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes for the paths it writes.`,
        );
      }
    },
    docker(c, _config, report) {
      if (c.readOnly === UNKNOWN || c.readOnly === true) return;
      report(
        `${describeDocker(c)} does not set readOnly: true. ${WHY} Fix: set readOnly: true and use tmpfs or volumes for writable paths.`,
      );
    },
  });
}
