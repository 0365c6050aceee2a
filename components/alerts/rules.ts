/**
 * The alert rules as data: thresholds with the seed's defaults, their validation, and the pure
 * builder that turns them into a PrometheusRule `spec`. No Pulumi calls here, so the rules are
 * tested as plain objects (`rules.test.ts`) and the component only wraps them in a resource.
 */

/** A warning and a critical threshold for one signal; warning must be below critical. */
export interface ThresholdPair {
  /** Level at which a `severity: warning` alert fires. */
  readonly warning: number;
  /** Level at which a `severity: critical` alert fires. */
  readonly critical: number;
}

/** Every threshold the rules use, resolved (no field missing). */
export interface AlertThresholds {
  /** Container CPU use, percent of its CPU limit. @default { warning: 70, critical: 90 } */
  readonly cpuPercent: ThresholdPair;
  /** Container memory working set, percent of its memory limit. @default { warning: 80, critical: 95 } */
  readonly memoryPercent: ThresholdPair;
  /** Persistent volume use (kubelet volume stats), percent of capacity. @default { warning: 70, critical: 85 } */
  readonly diskPercent: ThresholdPair;
  /** API responses with a 5xx status, percent of all responses. @default { warning: 1, critical: 5 } */
  readonly errorRatePercent: ThresholdPair;
  /** API p99 request latency, seconds. @default { warning: 0.5, critical: 1 } */
  readonly p99LatencySeconds: ThresholdPair;
}

/** Overrides for some thresholds; a missing field keeps its default. */
export type AlertThresholdOverrides = {
  readonly [K in keyof AlertThresholds]?: Partial<ThresholdPair>;
};

/** The seed's alerting thresholds (architecture §7.2, monitoring "Alerting Thresholds"). */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  cpuPercent: { warning: 70, critical: 90 },
  memoryPercent: { warning: 80, critical: 95 },
  diskPercent: { warning: 70, critical: 85 },
  errorRatePercent: { warning: 1, critical: 5 },
  p99LatencySeconds: { warning: 0.5, critical: 1 },
};

/** Upper bound of each threshold (percentages cannot exceed 100). */
const THRESHOLD_MAX: Record<keyof AlertThresholds, number> = {
  cpuPercent: 100,
  memoryPercent: 100,
  diskPercent: 100,
  errorRatePercent: 100,
  p99LatencySeconds: Number.POSITIVE_INFINITY,
};

/** One thing wrong with the threshold overrides. */
export interface ThresholdProblem {
  /** Where, below `thresholds`: `["cpuPercent", "warning"]`, or `["cpu"]` for an unknown name. */
  readonly path: readonly string[];
  /** One sentence naming the field (`thresholds.<path>`), its value and the fix. */
  readonly message: string;
}

/** Overrides merged onto the defaults, field by field. */
function mergeThresholds(overrides: AlertThresholdOverrides): AlertThresholds {
  const merged = {} as Record<keyof AlertThresholds, ThresholdPair>;
  for (const key of Object.keys(DEFAULT_ALERT_THRESHOLDS) as (keyof AlertThresholds)[]) {
    merged[key] = { ...DEFAULT_ALERT_THRESHOLDS[key], ...(overrides[key] ?? {}) };
  }
  return merged;
}

/**
 * Every problem with the overrides once merged onto the defaults (unknown names, non-numbers, out
 * of range, warning not below critical), each with its path. The stack config's schema
 * (config/schema.ts) and the Alerts component both check with this one function.
 */
export function thresholdProblems(overrides: AlertThresholdOverrides = {}): ThresholdProblem[] {
  const problems: ThresholdProblem[] = [];
  const known = Object.keys(DEFAULT_ALERT_THRESHOLDS);
  for (const key of Object.keys(overrides)) {
    if (!known.includes(key)) {
      problems.push({
        path: [key],
        message: `\`thresholds.${key}\` is not a threshold: use one of ${known.join(", ")}.`,
      });
    }
  }
  const merged = mergeThresholds(overrides);
  for (const key of Object.keys(merged) as (keyof AlertThresholds)[]) {
    const pair = merged[key];
    const max = THRESHOLD_MAX[key];
    for (const level of ["warning", "critical"] as const) {
      const value = pair[level];
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
        const range = Number.isFinite(max)
          ? `a number above 0 and at most ${max}`
          : "a number above 0";
        problems.push({
          path: [key, level],
          message: `\`thresholds.${key}.${level}\` (${String(value)}) must be ${range}.`,
        });
      }
    }
    if (pair.warning >= pair.critical) {
      problems.push({
        path: [key, "warning"],
        message:
          `\`thresholds.${key}.warning\` (${pair.warning}) is not below \`thresholds.${key}.critical\` ` +
          `(${pair.critical}): lower warning or raise critical.`,
      });
    }
  }
  return problems;
}

/**
 * Merge overrides onto the defaults and check the result with {@link thresholdProblems}. Throws one
 * error listing every problem, each naming the field and the fix.
 */
export function resolveAlertThresholds(overrides: AlertThresholdOverrides = {}): AlertThresholds {
  const problems = thresholdProblems(overrides);
  if (problems.length > 0) {
    throw new Error(`Invalid alert thresholds:\n- ${problems.map((p) => p.message).join("\n- ")}`);
  }
  return mergeThresholds(overrides);
}

/** How long a condition must hold before each alert fires (Prometheus durations). */
export const ALERT_FOR = {
  resources: "10m",
  traffic: "5m",
  siteDown: "2m",
  hpaAtMax: "15m",
} as const;

/** Names of the alerts the rules define; the runbook has one section per name. */
export const ALERT_NAMES = {
  cpu: "MonkeytownCpuHigh",
  memory: "MonkeytownMemoryHigh",
  disk: "MonkeytownDiskHigh",
  errorRate: "MonkeytownErrorRateHigh",
  latency: "MonkeytownLatencyP99High",
  siteDown: "MonkeytownSiteDown",
  hpaAtMax: "MonkeytownHpaAtMax",
} as const;

/** One Prometheus alerting rule, as a PrometheusRule lists it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

/** A PrometheusRule `spec`. */
export interface PrometheusRuleSpec {
  readonly groups: { readonly name: string; readonly rules: AlertRule[] }[];
}

/** What {@link buildAlertRules} needs; all plain values (resolve Outputs before calling). */
export interface AlertRuleOptions {
  /** Namespace the app runs in; every expression is scoped to it. */
  readonly namespace: string;
  /** `job` label of the API's scrape target (set by the ServiceMonitor). */
  readonly job: string;
  /** Resolved thresholds (see {@link resolveAlertThresholds}). */
  readonly thresholds: AlertThresholds;
  /** Name of the API's HPA; without it there is no HPA-at-maximum alert. */
  readonly hpaName?: string;
  /** Base name of the API's request-duration histogram (`<name>_bucket`, `<name>_count`). */
  readonly requestDurationMetric: string;
  /** Label of that histogram holding the HTTP status code. */
  readonly statusCodeLabel: string;
  /** Runbook address; each alert links to `<runbookUrl>#<alertname in lower case>`. */
  readonly runbookUrl: string;
}

/** A PromQL string literal. */
function q(value: string): string {
  return JSON.stringify(value);
}

/** A percentage as the ratio PromQL compares with. */
function ratio(percent: number): string {
  return String(percent / 100);
}

/**
 * Build the PrometheusRule spec: a warning and a critical rule for CPU, memory, disk, error ratio
 * and p99 latency, a critical site-down rule, and a warning when the HPA sits at its maximum
 * (only when `hpaName` is given).
 */
export function buildAlertRules(opts: AlertRuleOptions): PrometheusRuleSpec {
  const t = opts.thresholds;
  const ns = `namespace=${q(opts.namespace)}`;
  const target = `${ns}, job=${q(opts.job)}`;
  const m = opts.requestDurationMetric;
  const rule = (
    alert: string,
    severity: "warning" | "critical",
    expr: string,
    forDuration: string,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: {
      summary,
      description,
      runbook_url: `${opts.runbookUrl}#${alert.toLowerCase()}`,
    },
  });
  const pairOf = (
    alert: string,
    pair: ThresholdPair,
    exprFor: (threshold: number) => string,
    forDuration: string,
    summaryFor: (threshold: number) => string,
    description: string,
  ): AlertRule[] =>
    (["warning", "critical"] as const).map((severity) =>
      rule(
        alert,
        severity,
        exprFor(pair[severity]),
        forDuration,
        summaryFor(pair[severity]),
        description,
      ),
    );

  const containerUse = (usage: string, resource: "cpu" | "memory") => (percent: number) =>
    `sum by (namespace, pod, container) (${usage})\n` +
    `  / on (namespace, pod, container)\n` +
    `sum by (namespace, pod, container) (kube_pod_container_resource_limits{${ns}, resource=${q(resource)}})\n` +
    `  > ${ratio(percent)}`;

  const resources = [
    ...pairOf(
      ALERT_NAMES.cpu,
      t.cpuPercent,
      containerUse(
        `rate(container_cpu_usage_seconds_total{${ns}, container!="", container!="POD"}[5m])`,
        "cpu",
      ),
      ALERT_FOR.resources,
      (p) => `Container CPU above ${p}% of its limit`,
      "{{ $labels.pod }}/{{ $labels.container }} uses {{ $value | humanizePercentage }} of its CPU limit. Scale up or investigate.",
    ),
    ...pairOf(
      ALERT_NAMES.memory,
      t.memoryPercent,
      containerUse(
        `container_memory_working_set_bytes{${ns}, container!="", container!="POD"}`,
        "memory",
      ),
      ALERT_FOR.resources,
      (p) => `Container memory above ${p}% of its limit`,
      "{{ $labels.pod }}/{{ $labels.container }} uses {{ $value | humanizePercentage }} of its memory limit. Restart pods or scale.",
    ),
    ...pairOf(
      ALERT_NAMES.disk,
      t.diskPercent,
      (p) =>
        `max by (namespace, persistentvolumeclaim) (\n` +
        `  kubelet_volume_stats_used_bytes{${ns}}\n` +
        `    / kubelet_volume_stats_capacity_bytes{${ns}}\n` +
        `) > ${ratio(p)}`,
      ALERT_FOR.resources,
      (p) => `Volume use above ${p}%`,
      "Volume {{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full. Clean up or expand it.",
    ),
  ];

  const traffic = [
    ...pairOf(
      ALERT_NAMES.errorRate,
      t.errorRatePercent,
      (p) =>
        `sum(rate(${m}_count{${target}, ${opts.statusCodeLabel}=~"5.."}[5m]))\n` +
        `  / sum(rate(${m}_count{${target}}[5m]))\n` +
        `  > ${ratio(p)}`,
      ALERT_FOR.traffic,
      (p) => `API 5xx responses above ${p}% of requests`,
      "{{ $value | humanizePercentage }} of API requests fail with a 5xx status. Investigate errors.",
    ),
    ...pairOf(
      ALERT_NAMES.latency,
      t.p99LatencySeconds,
      (s) =>
        `histogram_quantile(0.99, sum by (le) (rate(${m}_bucket{${target}}[5m])))\n` + `  > ${s}`,
      ALERT_FOR.traffic,
      (s) => `API p99 latency above ${s * 1000} ms`,
      "The API's p99 request latency is {{ $value | humanizeDuration }}. Profile and optimize.",
    ),
  ];

  const availability = [
    rule(
      ALERT_NAMES.siteDown,
      "critical",
      `sum(up{${target}}) == 0\n  or absent(up{${target}})`,
      ALERT_FOR.siteDown,
      "The API is down: no scrape target is up",
      "Prometheus cannot reach any API pod. Check the deployment, roll back a recent release if needed.",
    ),
  ];
  if (opts.hpaName !== undefined) {
    const hpa = `${ns}, horizontalpodautoscaler=${q(opts.hpaName)}`;
    availability.push(
      rule(
        ALERT_NAMES.hpaAtMax,
        "warning",
        `max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${hpa}})\n` +
          `  >= max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${hpa}})`,
        ALERT_FOR.hpaAtMax,
        "The API autoscaler is at its maximum replicas",
        `HPA {{ $labels.horizontalpodautoscaler }} has run at its maximum for ${ALERT_FOR.hpaAtMax}; raise maxReplicas or find the load.`,
      ),
    );
  }

  return {
    groups: [
      { name: "monkeytown.resources", rules: resources },
      { name: "monkeytown.traffic", rules: traffic },
      { name: "monkeytown.availability", rules: availability },
    ],
  };
}
