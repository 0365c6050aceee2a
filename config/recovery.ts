/**
 * A stack's recovery plan: the probe timings its workloads get and the deploy health check's budget,
 * both derived from `monkeytown:recovery` (architecture seed §9.1) with the arithmetic of
 * components/k8s/recovery.ts, and the worst case of each failure. The config check, the program and
 * its `recovery` stack output (which scripts/health-check.sh reads) all take it from here.
 */
import {
  deployBudget,
  deriveProbeTimings,
  recoveryWorstCase,
  type DeployBudget,
  type ProbeTimings,
  type RecoveryWorstCase,
} from "../components/k8s/recovery";

/** The parts of the stack config the plan depends on. */
export interface RecoveryInputs {
  readonly environment: { readonly healthCheckIntervalSeconds: number };
  readonly web: { readonly replicas: number };
  readonly api: {
    readonly replicas: number;
    readonly strategy: "rolling" | "blue-green";
    readonly autoscaling?: { readonly maxReplicas: number };
  };
  readonly recovery: {
    readonly containerSeconds: number;
    readonly rollbackSeconds: number;
    readonly rollbackUpdateSeconds: number;
  };
}

export interface RecoveryPlan {
  readonly probes: ProbeTimings;
  readonly worstCase: RecoveryWorstCase & { readonly rollbackSeconds: number };
  readonly healthCheck: DeployBudget;
}

/**
 * The replica counts a rollback rolls: the web Deployment, and the API's unless it is blue-green
 * (its idle colour still runs the previous release: rolling back is switching). An autoscaled API
 * may be at its maximum when the rollback starts.
 */
export function rollingReplicas(c: RecoveryInputs): number[] {
  const api =
    c.api.strategy === "blue-green" ? 0 : (c.api.autoscaling?.maxReplicas ?? c.api.replicas);
  return [c.web.replicas, api];
}

/** Which target cannot be met, or the plan. */
export function recoveryPlan(
  c: RecoveryInputs,
):
  | { readonly ok: true; readonly plan: RecoveryPlan }
  | { readonly ok: false; readonly key: "containerSeconds" | "rollbackSeconds" } {
  const probes = deriveProbeTimings(
    c.recovery.containerSeconds,
    c.environment.healthCheckIntervalSeconds,
  );
  if (probes === undefined) return { ok: false, key: "containerSeconds" };
  const healthCheck = deployBudget(
    c.recovery.rollbackSeconds,
    c.recovery.rollbackUpdateSeconds,
    rollingReplicas(c),
    probes,
  );
  if (healthCheck === undefined) return { ok: false, key: "rollbackSeconds" };
  return {
    ok: true,
    plan: {
      probes,
      worstCase: { ...recoveryWorstCase(probes), rollbackSeconds: healthCheck.worstCaseSeconds },
      healthCheck,
    },
  };
}
