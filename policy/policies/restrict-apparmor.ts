import { workloadRule } from "../lib/rule";
import { describeDocker, dockerSecurityOpts } from "../lib/docker";
import { UNKNOWN, field, obj, str } from "../lib/values";
import { describeWorkload, securityContextSites } from "../lib/workload";

/** The legacy per-container annotation (before `appArmorProfile`, Kubernetes 1.30). */
export const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

const ALLOWED_TYPES = ["RuntimeDefault", "Localhost"];

const WHY =
  "An unconfined container runs without the AppArmor profile that otherwise denies it mounts, raw kernel interfaces and writes to /proc and /sys.";

function annotationAllowed(value: string): boolean {
  return value === "" || value === "runtime/default" || value.startsWith("localhost/");
}

/**
 * `appArmorProfile.type` is RuntimeDefault or Localhost in the pod's and every container's
 * securityContext, and the legacy `container.apparmor.security.beta.kubernetes.io/<container>`
 * pod annotations are `runtime/default` or `localhost/<profile>` (Pod Security baseline
 * "AppArmor"). Docker: no `apparmor=unconfined`.
 */
export function restrictApparmor() {
  return workloadRule<object>({
    name: "restrict-apparmor",
    description: "Pods and containers run under the runtime's default or a local AppArmor profile.",
    checks:
      "`appArmorProfile.type` RuntimeDefault or Localhost at pod and container level, and the legacy `container.apparmor.security.beta.kubernetes.io/<container>` pod annotations `runtime/default` or `localhost/<profile>`. Docker: no `apparmor=unconfined`.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "Kyverno PSS baseline restrict-apparmor-profiles; Pod Security admission baseline (AppArmor); kubesec AppArmorAny (scores a profile annotation); kube-score, Polaris, checkov: none",
    remediationSteps:
      "Remove appArmorProfile and the AppArmor annotations (the runtime default applies), or use type RuntimeDefault / Localhost.",
    workload(w, _config, report) {
      for (const site of securityContextSites(w)) {
        const profile = obj(field(site.sc, "appArmorProfile"));
        if (profile === UNKNOWN || profile === undefined) continue;
        const type = str(field(profile, "type"));
        if (typeof type !== "string" || ALLOWED_TYPES.includes(type)) continue;
        report(
          `${site.subject} sets ${site.path}.appArmorProfile.type: "${type}". ${WHY} Fix: remove appArmorProfile (the runtime default applies) or set type RuntimeDefault or Localhost.`,
        );
      }
      if (w.podAnnotations === UNKNOWN) return;
      for (const [key, value] of Object.entries(w.podAnnotations)) {
        if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
        if (value === UNKNOWN || value === undefined || annotationAllowed(value)) continue;
        const container = key.slice(APPARMOR_ANNOTATION_PREFIX.length);
        report(
          `${describeWorkload(w)}, container "${container}" is given AppArmor profile "${value}" by the pod annotation ${key}. ${WHY} Fix: remove the annotation, or set it to runtime/default or localhost/<profile> (on Kubernetes 1.30+ use securityContext.appArmorProfile instead).`,
        );
      }
    },
    docker(c, _config, report) {
      const opts = dockerSecurityOpts(c);
      if (opts === UNKNOWN) return;
      if (opts.some(([k, v]) => k === "apparmor" && v.toLowerCase() === "unconfined")) {
        report(
          `${describeDocker(c)} sets the security option apparmor=unconfined. ${WHY} Fix: remove the option to run under Docker's default profile.`,
        );
      }
    },
  });
}
