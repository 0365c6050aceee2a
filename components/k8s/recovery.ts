/**
 * Probe timings and the deploy health check, derived from the recovery targets of the architecture
 * seed (§9.1): a crashed or hung container serves again within 30 s, a failed deployment is rolled
 * back within 1 minute. Pure arithmetic, shared by the config check (config/schema.ts), the
 * workloads (probes) and the stack outputs the deploy workflow's health check reads.
 *
 * How the kubelet spends the time (pkg/kubelet/prober): each probe worker ticks every
 * `periodSeconds` on its own clock; a liveness failure needs `failureThreshold` consecutive failed
 * probes, each of which may take `timeoutSeconds`; the container is then stopped (SIGTERM, SIGKILL
 * after the probe's `terminationGracePeriodSeconds`) and restarted at once (the first restart has no
 * back-off); readiness is probed again only `initialDelaySeconds` after the new start, at the worker's
 * next tick.
 */

/**
 * The seed's recovery targets (§9.1), in seconds: the defaults of `monkeytown:recovery`
 * (config/schema.ts) and of the workloads' probes.
 */
export const RECOVERY_DEFAULTS = {
  /** A crashed or hung container serves again within this (seed: container crash, RTO 30 s). */
  containerSeconds: 30,
  /** A failed deployment is rolled back within this (seed: deployment failure, RTO 1 min). */
  rollbackSeconds: 60,
  /** The engine's share of a rollback `pulumi up`, not counting the rollout. */
  rollbackUpdateSeconds: 20,
  /**
   * How long a deploy waits for a Deployment's rollout before it fails (and the deploy flow rolls
   * back). Not a seed figure: Kubernetes' own default is 600 s, which would leave a bad release
   * half-rolled for 10 minutes before the rollback starts; 300 s covers ten pods at one at a time.
   */
  rolloutTimeoutSeconds: 300,
} as const;

/** What the derivation takes as given, in seconds (or counts). */
export const PROBE_COSTS = {
  /** Each probe's HTTP timeout; /health and /ready answer from memory in milliseconds. */
  timeoutSeconds: 2,
  /** Failed liveness probes in a row before a restart: one slow answer is not a hang. */
  livenessFailureThreshold: 3,
  /** SIGTERM to SIGKILL after a liveness failure (probe-level terminationGracePeriodSeconds). */
  killGraceSeconds: 2,
  /** The kubelet noticing the stop (PLEG relists every 1 s) and starting the container again. */
  restartSeconds: 2,
  /** Readiness initialDelaySeconds: nginx and the API listen well within it (docs: measured start). */
  readinessDelaySeconds: 2,
} as const;

/** The probe settings of every application container. */
export interface ProbeTimings {
  readonly liveness: {
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly initialDelaySeconds: number;
    /** Grace between SIGTERM and SIGKILL when liveness fails (overrides the pod's 30 s). */
    readonly terminationGracePeriodSeconds: number;
  };
  readonly readiness: {
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly initialDelaySeconds: number;
  };
}

/** Seconds spent whatever the probe period: the last probe's timeout, the kill, the restart, the readiness delay. */
const FIXED_SECONDS =
  PROBE_COSTS.timeoutSeconds +
  PROBE_COSTS.killGraceSeconds +
  PROBE_COSTS.restartSeconds +
  PROBE_COSTS.readinessDelaySeconds;

/** The shortest container recovery target any probe period can meet (a 1 s period). */
export const MIN_CONTAINER_RECOVERY_SECONDS =
  FIXED_SECONDS + (PROBE_COSTS.livenessFailureThreshold + 1) * 1;

/**
 * The probe timings that meet a container recovery target: the longest period (at most
 * `maxPeriodSeconds`, the environment matrix's health check interval) such that a hang is detected,
 * the container killed and restarted, and readiness probed again within `recoverySeconds`:
 * `failureThreshold × period + period + fixed costs ≤ target`. Undefined when no period of at
 * least 1 s fits (the target is below {@link MIN_CONTAINER_RECOVERY_SECONDS}).
 */
export function deriveProbeTimings(
  recoverySeconds: number,
  maxPeriodSeconds: number,
): ProbeTimings | undefined {
  const budget = recoverySeconds - FIXED_SECONDS;
  const period = Math.min(
    maxPeriodSeconds,
    Math.floor(budget / (PROBE_COSTS.livenessFailureThreshold + 1)),
  );
  if (!Number.isInteger(period) || period < 1) return undefined;
  return {
    liveness: {
      periodSeconds: period,
      timeoutSeconds: Math.min(PROBE_COSTS.timeoutSeconds, period),
      failureThreshold: PROBE_COSTS.livenessFailureThreshold,
      // Liveness waits for the app to start; readiness keeps it out of the Service until then.
      initialDelaySeconds: PROBE_COSTS.readinessDelaySeconds + period,
      terminationGracePeriodSeconds: PROBE_COSTS.killGraceSeconds,
    },
    readiness: {
      periodSeconds: period,
      timeoutSeconds: Math.min(PROBE_COSTS.timeoutSeconds, period),
      // Two failed /ready take the pod out of its Service's endpoints: a hung pod stops getting
      // traffic within two periods and a timeout. Three kept a hung API pod in the Service for 15 s
      // (147 of 630 requests timed out, bench/zero-downtime.ts scenario 5); one made pods flap out
      // of their Services on a single slow probe when the machine was loaded (the CI run).
      failureThreshold: 2,
      initialDelaySeconds: PROBE_COSTS.readinessDelaySeconds,
    },
  };
}

/**
 * Probe timings of a workload given none: the seed's container recovery target, with dev's health
 * check interval (10 s, architecture seed §5) as the longest probe period.
 */
export const DEFAULT_PROBE_TIMINGS: ProbeTimings = deriveProbeTimings(
  RECOVERY_DEFAULTS.containerSeconds,
  10,
)!;

/** Worst-case seconds until a container serves again, per failure, for these timings. */
export interface RecoveryWorstCase {
  /** The process exits: restart, then readiness at the worker's next tick after the delay. */
  readonly crashSeconds: number;
  /**
   * The process hangs just after a successful liveness probe: `failureThreshold` failed probes
   * (the last one timing out), the kill grace, the restart, then readiness as after a crash.
   */
  readonly hangSeconds: number;
  /** The same hang where probe-level grace is not honoured (the pod's default 30 s applies). */
  readonly hangWithPodGraceSeconds: number;
}

export function recoveryWorstCase(t: ProbeTimings): RecoveryWorstCase {
  const ready =
    PROBE_COSTS.restartSeconds + t.readiness.initialDelaySeconds + t.readiness.periodSeconds;
  const detect = t.liveness.failureThreshold * t.liveness.periodSeconds + t.liveness.timeoutSeconds;
  return {
    crashSeconds: ready,
    hangSeconds: detect + t.liveness.terminationGracePeriodSeconds + ready,
    hangWithPodGraceSeconds: detect + 30 + ready,
  };
}

/** What the deploy health check may spend, and the rollback's worst case. */
export interface DeployBudget {
  /** From `pulumi up` returning to the health check giving up (scripts/health-check.sh's deadline). */
  readonly healthCheckBudgetSeconds: number;
  /** Seconds between attempts. */
  readonly healthCheckIntervalSeconds: number;
  /** Seconds one request may take (cut to what is left of the budget). */
  readonly healthCheckTimeoutSeconds: number;
  /** The engine's share of the rollback `pulumi up` (config set, preview, update calls). */
  readonly updateSeconds: number;
  /** The rollback's rollout: the largest rolling Deployment's pods, one at a time, each until ready. */
  readonly rolloutSeconds: number;
  /** health check + update + rollout: from the bad release serving to the previous one serving. */
  readonly worstCaseSeconds: number;
}

export const HEALTH_CHECK = { intervalSeconds: 5, timeoutSeconds: 5 } as const;

/**
 * Split a rollback target between the health check and the rollback itself. The clock starts when
 * `pulumi up` returns with the new release serving; `rollingReplicas` are the replica counts of the
 * Deployments a rollback rolls (a blue-green API switches back instead, with nothing to start);
 * with maxSurge 1 and maxUnavailable 0 their pods are replaced one at a time, each ready within
 * the readiness delay plus one period. Undefined when less than two health-check attempts remain.
 */
export function deployBudget(
  rollbackSeconds: number,
  updateSeconds: number,
  rollingReplicas: readonly number[],
  t: ProbeTimings,
): DeployBudget | undefined {
  const perPod = t.readiness.initialDelaySeconds + t.readiness.periodSeconds;
  const rolloutSeconds = Math.max(0, ...rollingReplicas) * perPod;
  const budget = rollbackSeconds - updateSeconds - rolloutSeconds;
  if (budget < 2 * HEALTH_CHECK.intervalSeconds) return undefined;
  return {
    healthCheckBudgetSeconds: budget,
    healthCheckIntervalSeconds: HEALTH_CHECK.intervalSeconds,
    healthCheckTimeoutSeconds: HEALTH_CHECK.timeoutSeconds,
    updateSeconds,
    rolloutSeconds,
    worstCaseSeconds: budget + updateSeconds + rolloutSeconds,
  };
}

/** Problems with probe timings a caller passes in, each naming the field and the fix. */
export function validateProbeTimings(t: ProbeTimings, argName: string): string[] {
  const problems: string[] = [];
  for (const kind of ["liveness", "readiness"] as const) {
    for (const [field, value] of Object.entries(t[kind])) {
      const min =
        field === "initialDelaySeconds" || field === "terminationGracePeriodSeconds" ? 0 : 1;
      if (!Number.isInteger(value) || value < min) {
        problems.push(
          `\`${argName}.${kind}.${field}\` (${String(value)}) must be a whole number of at least ${min}.`,
        );
      }
    }
    if (t[kind].timeoutSeconds > t[kind].periodSeconds) {
      problems.push(
        `\`${argName}.${kind}.timeoutSeconds\` (${t[kind].timeoutSeconds}) is longer than its periodSeconds (${t[kind].periodSeconds}): probes would overlap; shorten the timeout.`,
      );
    }
  }
  return problems;
}
