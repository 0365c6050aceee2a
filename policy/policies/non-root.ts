import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer, describeWorkload } from "../lib/workload";

export interface NonRootConfig {
  /** Lowest UID accepted as `runAsUser`. */
  minRunAsUser: number;
  /** Also reject group 0 (`runAsGroup: 0`). */
  forbidRootGroup: boolean;
}

const WHY =
  "A process running as root inside the container is root on the node the moment it escapes " +
  "(a kernel or runtime bug, a hostPath mount), and it can rewrite its own image at run time.";

/**
 * Containers must not run as root: the effective `runAsNonRoot` (container overrides pod) is true
 * or the effective `runAsUser` is at least `minRunAsUser`; `runAsUser: 0` anywhere, pod level
 * included, is a violation even if every container overrides it. A `docker.Container` must set
 * `user` to something other than root.
 */
export function nonRoot() {
  return workloadRule<NonRootConfig>({
    name: "non-root",
    description: "Containers run as a non-root user.",
    checks:
      "Effective `runAsNonRoot: true` or `runAsUser` ≥ `minRunAsUser` for every container, init and ephemeral included (container fields override pod fields); `runAsUser: 0` anywhere, pod level included, is a violation; optionally `runAsGroup: 0`. Docker: `user` set and not root.",
    enforcementLevel: "mandatory",
    severity: "critical",
    peers:
      "kube-score container-security-context-user-group-id; Polaris runAsRootAllowed; kubesec RunAsNonRoot/RunAsUser; Kyverno PSS restricted require-run-as-nonroot, require-run-as-non-root-user; checkov CKV_K8S_23, CKV_K8S_40",
    remediationSteps:
      'Set securityContext.runAsNonRoot: true and runAsUser to a non-zero UID (the images here run as 1001), at pod level or on each container; for docker.Container set user: "1001:1001".',
    configSchema: configSchema({
      minRunAsUser: {
        type: "integer",
        minimum: 1,
        default: 1,
        description: "Lowest UID accepted for runAsUser (kube-score and kubesec suggest 10000).",
      },
      forbidRootGroup: {
        type: "boolean",
        default: false,
        description: "Also reject runAsGroup: 0.",
      },
    }),
    workload(w, config, report) {
      const podUser =
        w.podSecurityContext === UNKNOWN ? UNKNOWN : w.podSecurityContext?.["runAsUser"];
      if (podUser === 0) {
        report(
          `${describeWorkload(w)} sets spec.securityContext.runAsUser: 0, so every container that does not override it runs as root. ${WHY} Fix: set runAsUser to a non-zero UID (1001 here) and runAsNonRoot: true.`,
        );
      }
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const sc = c.securityContext;
        const where = describeContainer(w, c);
        if (sc.runAsUser === UNKNOWN || sc.runAsNonRoot === UNKNOWN) continue;
        if (sc.runAsUser === 0) {
          if (sc.runAsUserSource === "container") {
            report(
              `${where} sets securityContext.runAsUser: 0 (root). ${WHY} Fix: set runAsUser to a non-zero UID (1001 here).`,
            );
          }
          continue; // pod-level 0 already reported once for the pod
        }
        if (sc.runAsUser !== undefined && sc.runAsUser < config.minRunAsUser) {
          report(
            `${where} runs as UID ${sc.runAsUser} (from the ${sc.runAsUserSource} securityContext), below the minimum ${config.minRunAsUser}. Low UIDs collide with system users on the node. Fix: use a UID of at least ${config.minRunAsUser}.`,
          );
          continue;
        }
        if (sc.runAsNonRoot !== true && sc.runAsUser === undefined) {
          report(
            `${where} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set at container or pod level, so the image's USER decides. ${WHY} Fix: set securityContext.runAsNonRoot: true and runAsUser: 1001 (pod level covers every container).`,
          );
          continue;
        }
        if (config.forbidRootGroup && sc.runAsGroup === 0) {
          report(
            `${where} runs with group 0 (root). Files owned by group root become writable to it. Fix: set runAsGroup to a non-zero GID.`,
          );
        }
      }
    },
    docker(c, _config, report) {
      if (c.user === UNKNOWN) return;
      const user = (c.user ?? "").trim();
      const name = user.split(":")[0];
      if (name === "" || name === "root" || name === "0") {
        report(
          `${describeDocker(c)} ${user === "" ? "sets no user, so it runs as the image's USER, root unless the image says otherwise" : `runs as user "${user}" (root)`}. ${WHY} Fix: set user: "1001:1001".`,
        );
      }
    },
  });
}
