import { describe, expect, it } from "vitest";
import {
  ALERT_NAMES,
  AlertRule,
  buildAlertRules,
  DEFAULT_ALERT_THRESHOLDS,
  resolveAlertThresholds,
  thresholdProblems,
} from "./rules";
import { buildAlertmanagerConfigSpec, RECEIVERS, validateRouting } from "./routing";

const base = {
  namespace: "monkeytown-production",
  job: "monkeytown-api",
  thresholds: DEFAULT_ALERT_THRESHOLDS,
  requestDurationMetric: "http_request_duration_seconds",
  statusCodeLabel: "status_code",
  runbookUrl: "https://example.test/runbook.md",
};

const allRules = (spec: ReturnType<typeof buildAlertRules>): AlertRule[] =>
  spec.groups.flatMap((g) => g.rules);
const ruleOf = (rules: AlertRule[], alert: string, severity: string) => {
  const found = rules.filter((r) => r.alert === alert && r.labels.severity === severity);
  expect(found).toHaveLength(1);
  return found[0];
};

describe("resolveAlertThresholds", () => {
  it("defaults to the seed's thresholds", () => {
    expect(resolveAlertThresholds()).toEqual({
      cpuPercent: { warning: 70, critical: 90 },
      memoryPercent: { warning: 80, critical: 95 },
      diskPercent: { warning: 70, critical: 85 },
      errorRatePercent: { warning: 1, critical: 5 },
      p99LatencySeconds: { warning: 0.5, critical: 1 },
    });
  });

  it("overrides one level and keeps the other's default", () => {
    const t = resolveAlertThresholds({
      cpuPercent: { warning: 60 },
      p99LatencySeconds: { critical: 2 },
    });
    expect(t.cpuPercent).toEqual({ warning: 60, critical: 90 });
    expect(t.p99LatencySeconds).toEqual({ warning: 0.5, critical: 2 });
    expect(t.memoryPercent).toEqual({ warning: 80, critical: 95 });
  });

  it("reports every problem at once, naming each field", () => {
    let message = "";
    try {
      resolveAlertThresholds({
        memoryPercent: { warning: 96 },
        diskPercent: { critical: 120 },
        errorRatePercent: { warning: -1 },
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(
      "`thresholds.memoryPercent.warning` (96) is not below `thresholds.memoryPercent.critical` (95): lower warning or raise critical.",
    );
    expect(message).toContain(
      "`thresholds.diskPercent.critical` (120) must be a number above 0 and at most 100.",
    );
    expect(message).toContain(
      "`thresholds.errorRatePercent.warning` (-1) must be a number above 0",
    );
  });

  it("rejects an unknown threshold name", () => {
    expect(() =>
      resolveAlertThresholds({ cpu: { warning: 1 } } as unknown as Parameters<
        typeof resolveAlertThresholds
      >[0]),
    ).toThrow("`thresholds.cpu` is not a threshold");
  });
});

describe("thresholdProblems", () => {
  it("is empty for the defaults and for valid overrides", () => {
    expect(thresholdProblems()).toEqual([]);
    expect(thresholdProblems({ cpuPercent: { warning: 60 } })).toEqual([]);
  });

  it("gives each problem its path below `thresholds`, without parsing the message", () => {
    expect(
      thresholdProblems({
        cpu: { warning: 1 },
        memoryPercent: { warning: 96 },
        diskPercent: { critical: 120 },
      } as unknown as Parameters<typeof thresholdProblems>[0]),
    ).toEqual([
      {
        path: ["cpu"],
        message:
          "`thresholds.cpu` is not a threshold: use one of cpuPercent, memoryPercent, diskPercent, errorRatePercent, p99LatencySeconds.",
      },
      {
        path: ["memoryPercent", "warning"],
        message:
          "`thresholds.memoryPercent.warning` (96) is not below `thresholds.memoryPercent.critical` (95): lower warning or raise critical.",
      },
      {
        path: ["diskPercent", "critical"],
        message:
          "`thresholds.diskPercent.critical` (120) must be a number above 0 and at most 100.",
      },
    ]);
  });

  it("names a non-number at its level", () => {
    expect(
      thresholdProblems({ p99LatencySeconds: { critical: "1s" } } as unknown as Parameters<
        typeof thresholdProblems
      >[0]).map((p) => p.path),
    ).toEqual([["p99LatencySeconds", "critical"]]);
  });
});

describe("buildAlertRules", () => {
  const rules = allRules(buildAlertRules(base));

  it("has a warning and a critical rule per threshold, with the default levels", () => {
    expect(ruleOf(rules, ALERT_NAMES.cpu, "warning").expr).toMatch(/> 0\.7$/);
    expect(ruleOf(rules, ALERT_NAMES.cpu, "critical").expr).toMatch(/> 0\.9$/);
    expect(ruleOf(rules, ALERT_NAMES.memory, "warning").expr).toMatch(/> 0\.8$/);
    expect(ruleOf(rules, ALERT_NAMES.memory, "critical").expr).toMatch(/> 0\.95$/);
    expect(ruleOf(rules, ALERT_NAMES.disk, "warning").expr).toMatch(/> 0\.7$/);
    expect(ruleOf(rules, ALERT_NAMES.disk, "critical").expr).toMatch(/> 0\.85$/);
    expect(ruleOf(rules, ALERT_NAMES.errorRate, "warning").expr).toMatch(/> 0\.01$/);
    expect(ruleOf(rules, ALERT_NAMES.errorRate, "critical").expr).toMatch(/> 0\.05$/);
    expect(ruleOf(rules, ALERT_NAMES.latency, "warning").expr).toMatch(/> 0\.5$/);
    expect(ruleOf(rules, ALERT_NAMES.latency, "critical").expr).toMatch(/> 1$/);
    expect(ruleOf(rules, ALERT_NAMES.siteDown, "critical").expr).toContain("== 0");
  });

  it("uses the metrics the seed names: cAdvisor, kube-state-metrics, kubelet volumes, the API histogram", () => {
    expect(ruleOf(rules, ALERT_NAMES.cpu, "warning").expr).toContain(
      "container_cpu_usage_seconds_total",
    );
    expect(ruleOf(rules, ALERT_NAMES.cpu, "warning").expr).toContain('resource="cpu"');
    expect(ruleOf(rules, ALERT_NAMES.memory, "warning").expr).toContain(
      "container_memory_working_set_bytes",
    );
    expect(ruleOf(rules, ALERT_NAMES.disk, "warning").expr).toContain(
      "kubelet_volume_stats_used_bytes",
    );
    expect(ruleOf(rules, ALERT_NAMES.disk, "warning").expr).toContain(
      "kubelet_volume_stats_capacity_bytes",
    );
    const latency = ruleOf(rules, ALERT_NAMES.latency, "critical").expr;
    expect(latency).toContain("histogram_quantile(0.99,");
    expect(latency).toContain(
      'http_request_duration_seconds_bucket{namespace="monkeytown-production", job="monkeytown-api"}',
    );
    expect(ruleOf(rules, ALERT_NAMES.errorRate, "warning").expr).toContain('status_code=~"5.."');
  });

  it("scopes every expression to the namespace", () => {
    for (const rule of rules) {
      expect(rule.expr, rule.alert).toContain('namespace="monkeytown-production"');
    }
  });

  it("labels each rule with a severity and links a runbook section", () => {
    for (const rule of rules) {
      expect(["warning", "critical"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(0);
      expect(rule.annotations.description.length).toBeGreaterThan(0);
      expect(rule.annotations.runbook_url).toBe(
        `https://example.test/runbook.md#${rule.alert.toLowerCase()}`,
      );
      expect(rule.for).toMatch(/^\d+m$/);
    }
  });

  it("has no HPA alert without an HPA name", () => {
    expect(rules.map((r) => r.alert)).not.toContain(ALERT_NAMES.hpaAtMax);
    expect(JSON.stringify(rules)).not.toContain("horizontalpodautoscaler");
  });

  it("alerts when the named HPA runs at its maximum", () => {
    const withHpa = allRules(buildAlertRules({ ...base, hpaName: "api" }));
    const hpa = ruleOf(withHpa, ALERT_NAMES.hpaAtMax, "warning");
    expect(hpa.expr).toContain(
      'kube_horizontalpodautoscaler_status_current_replicas{namespace="monkeytown-production", horizontalpodautoscaler="api"}',
    );
    expect(hpa.expr).toContain(
      ">= max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas",
    );
  });

  it("applies threshold overrides and converts percentages to ratios", () => {
    const custom = allRules(
      buildAlertRules({
        ...base,
        thresholds: resolveAlertThresholds({ errorRatePercent: { warning: 2, critical: 10 } }),
      }),
    );
    expect(ruleOf(custom, ALERT_NAMES.errorRate, "warning").expr).toMatch(/> 0\.02$/);
    expect(ruleOf(custom, ALERT_NAMES.errorRate, "critical").expr).toMatch(/> 0\.1$/);
    expect(ruleOf(custom, ALERT_NAMES.errorRate, "warning").annotations.summary).toContain("2%");
  });

  it("quotes label values so a namespace cannot break out of the selector", () => {
    const odd = allRules(buildAlertRules({ ...base, namespace: 'a"b' }));
    expect(odd[0].expr).toContain('namespace="a\\"b"');
  });
});

describe("validateRouting", () => {
  it("accepts a Slack webhook and a complete digest", () => {
    expect(
      validateRouting(
        { kind: "slack", urlSecret: { name: "alerting", key: "slack-url" }, channel: "#ops" },
        {
          to: "ops@example.test",
          from: "alerts@example.test",
          smarthost: "smtp.example.test:587",
          authUsername: "alerts",
          authPassword: { name: "alerting", key: "smtp-password" },
        },
      ),
    ).toEqual([]);
  });

  it("names each bad field", () => {
    const problems = validateRouting(
      {
        kind: "discord",
        urlSecret: { name: "s", key: "k" },
        channel: "#ops",
        repeatInterval: "soon",
      },
      {
        to: "not-an-address",
        from: "alerts@example.test",
        smarthost: "smtp.example.test",
        authPassword: { name: "s", key: "p" },
        interval: "daily",
      },
    );
    expect(problems).toEqual([
      "`critical.channel` only applies to Slack: remove it for a Discord webhook.",
      '`critical.repeatInterval` ("soon") is not a duration: write e.g. "4h".',
      "`warningDigest.authPassword` is set without `authUsername`: set both or neither.",
      '`warningDigest.smarthost` ("smtp.example.test") must be host:port, e.g. "smtp.example.com:587".',
      '`warningDigest.to` ("not-an-address") is not an email address.',
      '`warningDigest.interval` ("daily") is not a duration: write e.g. "24h".',
    ]);
  });

  it("rejects an unknown webhook kind", () => {
    const kind = "teams" as unknown as "slack";
    expect(validateRouting({ kind, urlSecret: { name: "s", key: "k" } }, undefined)).toEqual([
      '`critical.kind` ("teams") must be "slack" or "discord".',
    ]);
  });
});

describe("buildAlertmanagerConfigSpec", () => {
  type Route = {
    receiver: string;
    matchers: unknown;
    groupInterval: string;
    repeatInterval: string;
  };
  type Spec = {
    route: { receiver: string; routes: Route[] };
    receivers: Record<string, unknown>[];
  };

  it("routes critical to the Discord webhook by secret reference and warnings to a daily digest", () => {
    const spec = buildAlertmanagerConfigSpec(
      { kind: "discord", urlSecret: { name: "alerting", key: "discord-url" } },
      { to: "ops@example.test", from: "alerts@example.test", smarthost: "smtp.example.test:587" },
    ) as unknown as Spec;
    expect(spec.route.receiver).toBe(RECEIVERS.none);
    const [critical, warning] = spec.route.routes;
    expect(critical.receiver).toBe(RECEIVERS.critical);
    expect(critical.matchers).toEqual([{ name: "severity", value: "critical", matchType: "=" }]);
    expect(critical.repeatInterval).toBe("4h");
    expect(warning.receiver).toBe(RECEIVERS.digest);
    expect(warning.matchers).toEqual([{ name: "severity", value: "warning", matchType: "=" }]);
    expect(warning.groupInterval).toBe("24h");
    expect(warning.repeatInterval).toBe("24h");

    const webhook = spec.receivers.find((r) => r.name === RECEIVERS.critical);
    expect(webhook).toEqual({
      name: RECEIVERS.critical,
      discordConfigs: [{ apiURL: { name: "alerting", key: "discord-url" }, sendResolved: true }],
    });
    expect(webhook).not.toHaveProperty("slackConfigs");
    const digest = spec.receivers.find((r) => r.name === RECEIVERS.digest) as {
      emailConfigs: Record<string, unknown>[];
    };
    expect(digest.emailConfigs[0]).toMatchObject({
      to: "ops@example.test",
      from: "alerts@example.test",
      smarthost: "smtp.example.test:587",
    });
    expect(digest.emailConfigs[0]).not.toHaveProperty("authPassword");
    expect(digest.emailConfigs[0]).not.toHaveProperty("authUsername");
  });

  it("builds only the critical route when there is no digest, with a custom interval", () => {
    const spec = buildAlertmanagerConfigSpec(
      { kind: "slack", urlSecret: { name: "a", key: "b" }, repeatInterval: "1h" },
      undefined,
    ) as unknown as Spec;
    expect(spec.route.routes).toHaveLength(1);
    expect(spec.route.routes[0].repeatInterval).toBe("1h");
    expect(spec.receivers.map((r) => r.name)).toEqual([RECEIVERS.none, RECEIVERS.critical]);
    expect(spec.receivers[1]).toHaveProperty("slackConfigs");
  });
});
