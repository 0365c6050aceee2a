import { workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

const WHY =
  "A privileged container has every capability and every host device: it is root on the node in all but name.";

/** No container runs `privileged: true` (Docker: `privileged: true`). */
export function noPrivileged() {
  return workloadRule<object>({
    name: "no-privileged",
    description: "Containers are not privileged.",
    checks: "No `privileged: true`. Docker: `privileged`.",
    enforcementLevel: "advisory",
    severity: "critical",
    peers:
      "kube-score container-security-context-privileged; Polaris runAsPrivileged; kubesec Privileged; Kyverno PSS baseline disallow-privileged-containers; checkov CKV_K8S_16",
    remediationSteps:
      "Remove privileged: true; grant the single capability the process needs instead.",
    workload(w, _config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        if (c.securityContext.privileged === true) {
          report(
            `${describeContainer(w, c)} sets privileged: true. ${WHY} Fix: remove it and add only the capability the process needs.`,
          );
        }
      }
    },
    docker(c, _config, report) {
      if (c.privileged === true) {
        report(
          `${describeDocker(c)} sets privileged: true. ${WHY} Fix: remove it and add only the capability the process needs.`,
        );
      }
    },
  });
}
