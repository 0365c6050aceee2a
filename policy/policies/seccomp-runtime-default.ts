import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

export interface SeccompConfig {
  /** Seccomp profile types accepted. */
  allowedProfiles: string[];
}

const WHY =
  "Without a seccomp profile the container may call any of ~300 syscalls, including the rarely used ones most kernel exploits go through; Kubernetes runs pods Unconfined unless told otherwise.";

/**
 * Every container's effective seccomp profile (container overrides pod) is RuntimeDefault or
 * Localhost. Docker containers run the engine's default profile unless `seccomp=unconfined`.
 */
export function seccompRuntimeDefault() {
  return workloadRule<SeccompConfig>({
    name: "seccomp-runtime-default",
    description: "Containers run under the RuntimeDefault (or a Localhost) seccomp profile.",
    checks:
      "Effective seccomp profile (container overrides pod) is RuntimeDefault or Localhost. Docker: not `seccomp=unconfined`.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score container-seccomp-profile (optional check); Polaris (none in default config); kubesec SeccompAny/SeccompUnconfined; Kyverno PSS restricted restrict-seccomp-strict; checkov CKV_K8S_31",
    remediationSteps:
      "Set spec.securityContext.seccompProfile: { type: RuntimeDefault } at pod level.",
    configSchema: configSchema({
      allowedProfiles: {
        type: "array",
        items: { type: "string", enum: ["RuntimeDefault", "Localhost", "Unconfined"] },
        default: ["RuntimeDefault", "Localhost"],
        description: "Seccomp profile types accepted.",
      },
    }),
    workload(w, config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const t = c.securityContext.seccompProfileType;
        if (t === UNKNOWN) continue;
        if (t !== undefined && config.allowedProfiles.includes(t)) continue;
        report(
          `${describeContainer(w, c)} ${t === undefined ? "has no seccomp profile at container or pod level" : `runs with seccomp profile "${t}" (from the ${c.securityContext.seccompSource} securityContext)`}. ${WHY} Fix: set spec.securityContext.seccompProfile.type: RuntimeDefault.`,
        );
      }
    },
    docker(c, _config, report) {
      if (c.securityOpts === UNKNOWN) return;
      if (c.securityOpts.some((o) => /^seccomp[:=]unconfined$/i.test(o.trim()))) {
        report(
          `${describeDocker(c)} disables seccomp (seccomp=unconfined). ${WHY} Fix: remove the option to use Docker's default profile.`,
        );
      }
    },
  });
}
