import { configSchema, workloadRule } from "../lib/rule";
import { UNKNOWN, field } from "../lib/values";
import { describeContainer } from "../lib/workload";

export interface ProbesConfig {
  requireReadiness: boolean;
  requireLiveness: boolean;
}

/** JSON of a probe without its timing fields, to compare what two probes actually check. */
function probeTarget(p: unknown): string | undefined {
  if (p === null || typeof p !== "object") return undefined;
  const o = p as Record<string, unknown>;
  return JSON.stringify([o["httpGet"], o["tcpSocket"], o["exec"], o["grpc"]]);
}

/**
 * Long-running workloads (not Jobs/CronJobs; not init or ephemeral containers) define readiness
 * and liveness probes, and the liveness probe does not check exactly what readiness checks
 * (a failing dependency then restarts every replica at once, as kube-score warns).
 */
export function probesConfigured() {
  return workloadRule<ProbesConfig>({
    name: "probes-configured",
    description: "Long-running containers define readiness and liveness probes that differ.",
    checks:
      "Readiness and liveness probes on long-running containers (not Jobs/CronJobs, init or ephemeral containers), and not the same check.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score pod-probes (also flags identical probes); Polaris readinessProbeMissing, livenessProbeMissing; kubesec (none); checkov CKV_K8S_8, CKV_K8S_9",
    remediationSteps:
      "Add readinessProbe (is it ready for traffic: /healthz/ready) and livenessProbe (is the process stuck: /healthz) on each serving container.",
    configSchema: configSchema({
      requireReadiness: { type: "boolean", default: true, description: "Require readinessProbe." },
      requireLiveness: { type: "boolean", default: true, description: "Require livenessProbe." },
    }),
    workload(w, config, report) {
      if (w.kind === "Job" || w.kind === "CronJob" || w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        if (c.role !== "container") continue;
        const readiness = field(c.spec, "readinessProbe");
        const liveness = field(c.spec, "livenessProbe");
        const missing: string[] = [];
        if (config.requireReadiness && readiness === undefined) missing.push("readinessProbe");
        if (config.requireLiveness && liveness === undefined) missing.push("livenessProbe");
        if (missing.length > 0) {
          report(
            `${describeContainer(w, c)} has no ${missing.join(" or ")}. Without readiness, traffic reaches pods that are still starting or broken; without liveness, a hung process is never restarted. Fix: add ${missing.join(" and ")} (httpGet on the health endpoint).`,
          );
          continue;
        }
        if (readiness === UNKNOWN || liveness === UNKNOWN) continue;
        const r = probeTarget(readiness);
        if (r !== undefined && r === probeTarget(liveness)) {
          report(
            `${describeContainer(w, c)} uses the same check for readinessProbe and livenessProbe. When a dependency fails, every replica is restarted at once instead of being taken out of rotation. Fix: point livenessProbe at a check of the process itself only.`,
          );
        }
      }
    },
  });
}
