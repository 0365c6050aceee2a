/** The recovery arithmetic (architecture seed §9.1), without mocks. */
import { describe, expect, it } from "vitest";
import {
  MIN_CONTAINER_RECOVERY_SECONDS,
  deployBudget,
  deriveProbeTimings,
  recoveryWorstCase,
  validateProbeTimings,
} from "./recovery";

/** Seed 000 §9.1: container crash RTO 30 s; deployment failure RTO 1 min. */
const CONTAINER_RTO = 30;
const DEPLOY_RTO = 60;

describe("probe timings from the container recovery target", () => {
  it("meets the seed's 30 s: 5 s probes, a hang restarts and serves again in 28 s, a crash in 9 s", () => {
    const t = deriveProbeTimings(CONTAINER_RTO, 30)!;
    expect(t).toEqual({
      liveness: {
        periodSeconds: 5,
        timeoutSeconds: 2,
        failureThreshold: 3,
        initialDelaySeconds: 7,
        terminationGracePeriodSeconds: 2,
      },
      readiness: {
        periodSeconds: 5,
        timeoutSeconds: 2,
        // a hung pod leaves its Service after two failed readiness probes, not one slow one
        failureThreshold: 2,
        initialDelaySeconds: 2,
      },
    });
    // hang: 3 failed probes 5 s apart, the last timing out (17 s), SIGKILL after 2 s, restart 2 s,
    // readiness 2 s after the start at the worker's next 5 s tick.
    expect(recoveryWorstCase(t)).toEqual({
      crashSeconds: 2 + 2 + 5,
      hangSeconds: 3 * 5 + 2 + 2 + 2 + 2 + 5,
      hangWithPodGraceSeconds: 3 * 5 + 2 + 30 + 2 + 2 + 5,
    });
  });

  it("the probes before (30 s period × 3 failures, pod grace 30 s) took 157 s to serve again", () => {
    const old = {
      liveness: {
        periodSeconds: 30,
        timeoutSeconds: 3,
        failureThreshold: 3,
        initialDelaySeconds: 5,
        terminationGracePeriodSeconds: 30,
      },
      readiness: {
        periodSeconds: 30,
        timeoutSeconds: 3,
        failureThreshold: 3,
        initialDelaySeconds: 2,
      },
    };
    // 90 s of failed probes (the "90 s before a restart") + 3 s timeout + 30 s grace +
    // restart 2 s + readiness 2 s delay and a 30 s tick.
    expect(recoveryWorstCase(old).hangSeconds).toBe(157);
    expect(recoveryWorstCase(old).hangSeconds).toBeGreaterThan(CONTAINER_RTO);
  });

  it("never exceeds the target, and uses the longest period that meets it, for every target and interval", () => {
    for (let target = MIN_CONTAINER_RECOVERY_SECONDS; target <= 180; target++) {
      for (let interval = 1; interval <= 60; interval++) {
        const t = deriveProbeTimings(target, interval)!;
        expect(t, `${target}/${interval}`).toBeDefined();
        const p = t.liveness.periodSeconds;
        expect(p).toBeLessThanOrEqual(interval);
        expect(recoveryWorstCase(t).hangSeconds, `${target}/${interval}`).toBeLessThanOrEqual(
          target,
        );
        expect(validateProbeTimings(t, "probes")).toEqual([]);
        if (p < interval) {
          // One second more per probe would break the target.
          const timeoutSeconds = Math.min(2, p + 1);
          const longer = {
            liveness: { ...t.liveness, periodSeconds: p + 1, timeoutSeconds },
            readiness: { ...t.readiness, periodSeconds: p + 1, timeoutSeconds },
          };
          expect(recoveryWorstCase(longer).hangSeconds, `${target}/${interval}`).toBeGreaterThan(
            target,
          );
        }
      }
    }
  });

  it("has no answer below the fixed costs (12 s: timeout, kill, restart, readiness delay, 4 × 1 s)", () => {
    expect(MIN_CONTAINER_RECOVERY_SECONDS).toBe(12);
    expect(deriveProbeTimings(11, 10)).toBeUndefined();
    expect(deriveProbeTimings(12, 10)?.liveness.periodSeconds).toBe(1);
  });
});

describe("the deploy health check's budget from the rollback target", () => {
  const t = deriveProbeTimings(CONTAINER_RTO, 30)!;

  it("splits 60 s into health check + the rollback's update + its rollout (7 s per pod, one at a time)", () => {
    // Staging: web and API at 1 replica, rolling.
    expect(deployBudget(DEPLOY_RTO, 20, [1, 1], t)).toEqual({
      healthCheckBudgetSeconds: 33,
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 5,
      updateSeconds: 20,
      rolloutSeconds: 7,
      worstCaseSeconds: 60,
    });
    // Production: web at 2, the blue-green API switches back (nothing rolls).
    expect(deployBudget(DEPLOY_RTO, 20, [2, 0], t)).toMatchObject({
      healthCheckBudgetSeconds: 26,
      rolloutSeconds: 14,
      worstCaseSeconds: 60,
    });
  });

  it("refuses a target that leaves fewer than two attempts", () => {
    // A rolling API at 10 pods: 70 s of rollout alone.
    expect(deployBudget(DEPLOY_RTO, 20, [2, 10], t)).toBeUndefined();
    expect(deployBudget(36, 20, [1, 1], t)).toBeUndefined();
    expect(deployBudget(37, 20, [1, 1], t)?.healthCheckBudgetSeconds).toBe(10);
  });
});
