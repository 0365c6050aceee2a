import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Harness, installMocks } from "../../test/harness";
import type { AlertRule } from "./rules";

const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const ROUTING = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig";

/** A webhook URL that lives only in the Secret; the component must never see or emit it. */
const WEBHOOK_URL = "https://hooks.slack.com/services/T000/B000/never-in-inputs";

let h: Harness;
let mod: typeof import("./index");

beforeAll(async () => {
  h = await installMocks();
  mod = await import("./index");

  new mod.Alerts("full", {
    namespace: pulumi.output("monkeytown-production"),
    apiSelectorLabels: {
      "app.kubernetes.io/part-of": "monkeytown",
      "app.kubernetes.io/name": "api",
    },
    hpaName: "api",
    thresholds: { cpuPercent: { warning: 60, critical: 80 } },
    runbookUrl: "https://github.com/example/monkeytown/blob/main/docs/runbook.md",
    operatorLabels: { release: "kube-prometheus-stack" },
    critical: { kind: "slack", urlSecret: { name: "monkeytown-alerting", key: "webhook-url" } },
    warningDigest: {
      to: "ops@example.test",
      from: "alerts@example.test",
      smarthost: "smtp.example.test:587",
      authUsername: "alerts",
      authPassword: { name: "monkeytown-alerting", key: "smtp-password" },
    },
  });

  new mod.Alerts("bare", {
    namespace: "monkeytown-staging",
    apiSelectorLabels: { "app.kubernetes.io/name": "api" },
  });
  await h.settle();
});

const rulesOf = (name: string): AlertRule[] =>
  (h.one(RULE, `${name}-rules`).inputs.spec.groups as { rules: AlertRule[] }[]).flatMap(
    (g) => g.rules,
  );

describe("Alerts", () => {
  it("registers a component with the monkeytown type token and parents its children to it", () => {
    const component = h.one("monkeytown:alerts:Alerts", "full");
    expect(component.custom).toBe(false);
    expect(
      h
        .byType(RULE)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["bare-rules", "full-rules"]);
  });

  it("puts the PrometheusRule in the app namespace with part-of and operator labels", () => {
    const { inputs } = h.one(RULE, "full-rules");
    expect(inputs.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(inputs.kind).toBe("PrometheusRule");
    expect(inputs.metadata.namespace).toBe("monkeytown-production");
    expect(inputs.metadata.labels).toEqual({
      "app.kubernetes.io/part-of": "monkeytown",
      "app.kubernetes.io/name": "alerts",
      "app.kubernetes.io/component": "rules",
      release: "kube-prometheus-stack",
    });
  });

  it("uses the overridden CPU thresholds and the seed's defaults elsewhere", () => {
    const rules = rulesOf("full");
    const cpu = rules.filter((r) => r.alert === "MonkeytownCpuHigh");
    expect(cpu.map((r) => [r.labels.severity, r.expr.split("> ").pop()])).toEqual([
      ["warning", "0.6"],
      ["critical", "0.8"],
    ]);
    const memory = rules.filter((r) => r.alert === "MonkeytownMemoryHigh");
    expect(memory.map((r) => r.expr.split("> ").pop())).toEqual(["0.8", "0.95"]);
    expect(rules[0].annotations.runbook_url).toBe(
      "https://github.com/example/monkeytown/blob/main/docs/runbook.md#monkeytowncpuhigh",
    );
  });

  it("has the HPA alert only when an HPA name is given", () => {
    expect(rulesOf("full").map((r) => r.alert)).toContain("MonkeytownHpaAtMax");
    expect(rulesOf("bare").map((r) => r.alert)).not.toContain("MonkeytownHpaAtMax");
    expect(rulesOf("bare")).toHaveLength(11);
  });

  it("scrapes the API Service's http port at /metrics, selected by its labels, in its namespace", () => {
    const { inputs } = h.one(MONITOR, "full-api-monitor");
    expect(inputs.metadata.namespace).toBe("monkeytown-production");
    expect(inputs.spec.selector).toEqual({
      matchLabels: { "app.kubernetes.io/part-of": "monkeytown", "app.kubernetes.io/name": "api" },
    });
    expect(inputs.spec.namespaceSelector).toEqual({ matchNames: ["monkeytown-production"] });
    expect(inputs.spec.endpoints).toEqual([
      {
        port: "http",
        path: "/metrics",
        interval: "30s",
        relabelings: [{ action: "replace", targetLabel: "job", replacement: "monkeytown-api" }],
      },
    ]);
  });

  it("routes critical to Slack by secret reference and warnings to a daily email digest", () => {
    const { inputs } = h.one(ROUTING, "full-routing");
    expect(inputs.metadata.namespace).toBe("monkeytown-production");
    const receivers = inputs.spec.receivers as Record<string, unknown>[];
    expect(receivers.find((r) => r.name === "critical-webhook")).toEqual({
      name: "critical-webhook",
      slackConfigs: [
        { apiURL: { name: "monkeytown-alerting", key: "webhook-url" }, sendResolved: true },
      ],
    });
    const email = (
      receivers.find((r) => r.name === "warning-digest") as {
        emailConfigs: Record<string, unknown>[];
      }
    ).emailConfigs[0];
    expect(email.authPassword).toEqual({ name: "monkeytown-alerting", key: "smtp-password" });
    const warningRoute = (inputs.spec.route.routes as Record<string, unknown>[]).find(
      (r) => r.receiver === "warning-digest",
    );
    expect(warningRoute).toMatchObject({ groupInterval: "24h", repeatInterval: "24h" });
  });

  it("never carries a webhook URL, only the secret key reference", () => {
    expect(h.dump()).not.toContain(WEBHOOK_URL);
    expect(h.dump()).not.toMatch(/hooks\.slack\.com|discord\.com\/api\/webhooks/);
    const webhook = JSON.stringify(h.one(ROUTING, "full-routing").inputs.spec.receivers);
    expect(webhook).not.toMatch(/"(url|webhookURL|apiURL)":"http/);
  });

  it("creates no AlertmanagerConfig when no receiver is given", () => {
    expect(h.find(ROUTING, "bare-routing")).toBeUndefined();
    expect(h.one(MONITOR, "bare-api-monitor").inputs.metadata.labels).not.toHaveProperty("release");
  });
});

describe("Alerts argument checks", () => {
  it("throws before registering anything, naming each bad argument", async () => {
    const before = h.resources.length;
    expect(
      () =>
        new mod.Alerts("bad", {
          namespace: "ns",
          apiSelectorLabels: {},
          metricsPath: "metrics",
          thresholds: { diskPercent: { warning: 90 } },
          critical: { kind: "discord", urlSecret: { name: "s", key: "k" }, channel: "#ops" },
        }),
    ).toThrow(
      [
        'Invalid arguments for monkeytown:alerts:Alerts "bad" (4 problems; nothing was registered):',
        "  - `apiSelectorLabels` is empty: pass the API Service's selector labels, or the ServiceMonitor would select every Service.",
        '  - `metricsPath` ("metrics") must start with "/", e.g. "/metrics".',
        "  - `critical.channel` only applies to Slack: remove it for a Discord webhook.",
        "  - `thresholds.diskPercent.warning` (90) is not below `thresholds.diskPercent.critical` (85): lower warning or raise critical.",
      ].join("\n"),
    );
    await h.settle();
    expect(h.resources.slice(before).map((r) => r.name)).toEqual([]);
  });
});
