import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { parseQuantity } from "../lib/quantity";
import { UNKNOWN, field, obj, str } from "../lib/values";
import { describeContainer } from "../lib/workload";

export interface ResourceLimitsConfig {
  /** Require a CPU limit (some teams run without CPU limits to avoid throttling). */
  requireCpuLimit: boolean;
  /** Highest CPU limit accepted, as a Kubernetes quantity. */
  maxCpuLimit: string;
  /** Highest memory limit accepted, as a Kubernetes quantity. */
  maxMemoryLimit: string;
}

const WHY =
  "Without requests the scheduler packs pods blindly and they are first to be evicted; without limits one container can starve every other pod on its node.";

function describeQuantity(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : String(v);
}

/**
 * Every container, init containers included, sets CPU and memory requests and limits, each limit
 * at or above its request and at or below the configured maximum. Ephemeral containers are
 * exempt: Kubernetes does not allow resources on them. A `docker.Container` sets `memory` and one
 * of `cpus`/`cpuShares`.
 */
export function resourceLimits() {
  return workloadRule<ResourceLimitsConfig>({
    name: "resource-limits",
    description: "Containers set CPU and memory requests and limits within bounds.",
    checks:
      "CPU and memory requests and limits on every container and init container (ephemeral containers cannot have them), limit ≥ request, limit ≤ maximum, quantities valid. Docker: `memory` and `cpus`/`cpuShares`.",
    enforcementLevel: "mandatory",
    severity: "high",
    peers:
      "kube-score container-resources, container-resource-requests-equal-limits (partly); Polaris cpuRequestsMissing, cpuLimitsMissing, memoryRequestsMissing, memoryLimitsMissing; kubesec LimitsCPU/LimitsMemory/RequestsCPU/RequestsMemory; checkov CKV_K8S_10-13",
    remediationSteps:
      "Set resources.requests and resources.limits for cpu and memory on every container and init container (the API uses requests 200m/256Mi, limits 1000m/512Mi).",
    configSchema: configSchema({
      requireCpuLimit: {
        type: "boolean",
        default: true,
        description: "Require a CPU limit as well as a CPU request.",
      },
      maxCpuLimit: {
        type: "string",
        default: "4",
        description: "Highest CPU limit accepted (Kubernetes quantity).",
      },
      maxMemoryLimit: {
        type: "string",
        default: "8Gi",
        description: "Highest memory limit accepted (Kubernetes quantity).",
      },
    }),
    workload(w, config, report) {
      if (w.containers === UNKNOWN) return;
      const max: Record<string, number | undefined> = {
        cpu: parseQuantity(config.maxCpuLimit),
        memory: parseQuantity(config.maxMemoryLimit),
      };
      const maxText: Record<string, string> = {
        cpu: config.maxCpuLimit,
        memory: config.maxMemoryLimit,
      };
      for (const c of w.containers) {
        if (c.role === "ephemeral container") continue;
        const resources = obj(c.spec["resources"]);
        if (resources === UNKNOWN) continue;
        const requests = obj(field(resources, "requests"));
        const limits = obj(field(resources, "limits"));
        const where = describeContainer(w, c);
        const missing: string[] = [];
        const problems: string[] = [];
        for (const res of ["cpu", "memory"]) {
          const req = requests === UNKNOWN ? UNKNOWN : field(requests, res);
          const lim = limits === UNKNOWN ? UNKNOWN : field(limits, res);
          if (req === undefined) missing.push(`requests.${res}`);
          if (lim === undefined && (res === "memory" || config.requireCpuLimit))
            missing.push(`limits.${res}`);
          const reqS = str(req);
          const limS = str(lim);
          const reqQ = typeof reqS === "string" ? parseQuantity(reqS) : undefined;
          const limQ = typeof limS === "string" ? parseQuantity(limS) : undefined;
          if (typeof reqS === "string" && reqQ === undefined)
            problems.push(`requests.${res} ${describeQuantity(req)} is not a valid quantity`);
          if (typeof limS === "string" && limQ === undefined)
            problems.push(`limits.${res} ${describeQuantity(lim)} is not a valid quantity`);
          if (reqQ !== undefined && limQ !== undefined && limQ < reqQ) {
            problems.push(
              `limits.${res} ${describeQuantity(lim)} is below requests.${res} ${describeQuantity(req)} (Kubernetes rejects this)`,
            );
          }
          const m = max[res];
          if (limQ !== undefined && m !== undefined && limQ > m) {
            problems.push(
              `limits.${res} ${describeQuantity(lim)} is above the allowed maximum "${maxText[res]}"`,
            );
          }
        }
        if (missing.length > 0) {
          report(
            `${where} has no ${missing.join(", ")}. ${WHY} Fix: set resources.requests and resources.limits for cpu and memory (for example requests 200m/256Mi, limits 1000m/512Mi).`,
          );
        }
        if (problems.length > 0) {
          report(
            `${where}: ${problems.join("; ")}. Fix: keep every limit at or above its request and within the pack's maxima (maxCpuLimit, maxMemoryLimit).`,
          );
        }
      }
    },
    docker(c, _config, report) {
      const missing: string[] = [];
      if (c.memory !== UNKNOWN && !(typeof c.memory === "number" && c.memory > 0))
        missing.push("memory");
      if (
        c.cpus !== UNKNOWN &&
        c.cpuShares !== UNKNOWN &&
        c.cpus === undefined &&
        c.cpuShares === undefined
      ) {
        missing.push("cpus (or cpuShares)");
      }
      if (missing.length > 0) {
        report(
          `${describeDocker(c)} sets no ${missing.join(" and ")} limit. ${WHY} Fix: set memory (MB) and cpus, e.g. memory: 512, cpus: "1".`,
        );
      }
    },
  });
}
