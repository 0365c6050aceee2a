/**
 * Alerts: the API's monitoring on a cluster that runs the Prometheus Operator. A PrometheusRule with
 * the seed's thresholds, a ServiceMonitor that scrapes the API's `/metrics`, and an
 * AlertmanagerConfig that pages critical alerts to chat and mails warnings as a daily digest.
 *
 * Credentials never pass through this component: the webhook URL and the SMTP password are
 * referenced by Secret name and key, and the Secret is made by the Secrets component.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs, PKG } from "../args";
import { selectorLabels } from "../k8s";
import {
  AlertThresholdOverrides,
  AlertThresholds,
  buildAlertRules,
  resolveAlertThresholds,
  thresholdProblems,
} from "./rules";
import {
  buildAlertmanagerConfigSpec,
  CriticalWebhookArgs,
  EmailDigestArgs,
  validateRouting,
} from "./routing";

export * from "./rules";
export * from "./routing";

export interface AlertsArgs {
  /** Namespace the app runs in; the rules, ServiceMonitor and routing live there too. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Labels on the API Service's own metadata that the ServiceMonitor selects it by
   * (`ApiService.serviceLabels`): not the Service's pod selector, whose blue-green colour label no
   * Service carries.
   */
  readonly apiSelectorLabels: Readonly<Record<string, string>>;
  /** Name of the API Service port that serves metrics. @default "http" */
  readonly metricsPort?: string;
  /** Path of the metrics endpoint. @default "/metrics" */
  readonly metricsPath?: string;
  /** How often Prometheus scrapes the API. @default "30s" */
  readonly scrapeInterval?: string;
  /** `job` label given to the API's scrape target; the rules select on it. @default "monkeytown-api" */
  readonly job?: string;
  /** Name of the API's HorizontalPodAutoscaler; the HPA-at-maximum alert exists only with it. */
  readonly hpaName?: pulumi.Input<string>;
  /** Threshold overrides; each missing value keeps the seed's default (see `DEFAULT_ALERT_THRESHOLDS`). @default {} */
  readonly thresholds?: AlertThresholdOverrides;
  /** Base name of the API's request-duration histogram. @default "http_request_duration_seconds" */
  readonly requestDurationMetric?: string;
  /** Label of that histogram holding the HTTP status code. @default "status_code" */
  readonly statusCodeLabel?: string;
  /** Runbook address; each alert links to `<runbookUrl>#<alertname in lower case>`. @default "docs/runbook.md" */
  readonly runbookUrl?: string;
  /** Extra labels on the three resources, for the operator's rule/monitor/config selectors (e.g. `release`). @default {} */
  readonly operatorLabels?: Readonly<Record<string, string>>;
  /** Chat webhook that receives `severity=critical`; without it critical alerts are not routed here. */
  readonly critical?: CriticalWebhookArgs;
  /** Email digest that receives `severity=warning`; without it warnings are not routed here. */
  readonly warningDigest?: EmailDigestArgs;
}

/** Defaults of {@link AlertsArgs}, applied once in the constructor. */
export const ALERTS_DEFAULTS = {
  metricsPort: "http",
  metricsPath: "/metrics",
  scrapeInterval: "30s",
  job: "monkeytown-api",
  requestDurationMetric: "http_request_duration_seconds",
  statusCodeLabel: "status_code",
  runbookUrl: "docs/runbook.md",
} as const;

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The component's type token. */
export const ALERTS_TYPE = `${PKG}:alerts:Alerts`;

/** Check the arguments; returns every problem (empty when fine), each naming the argument and the fix. */
export function validateAlertsArgs(args: AlertsArgs): string[] {
  const problems: string[] = [];
  if (!args.apiSelectorLabels || Object.keys(args.apiSelectorLabels).length === 0) {
    problems.push(
      "`apiSelectorLabels` is empty: pass the API Service's selector labels, or the ServiceMonitor would select every Service.",
    );
  }
  if (args.metricsPort !== undefined && args.metricsPort.trim() === "") {
    problems.push(
      '`metricsPort` is empty: name the Service port that serves metrics, e.g. "http".',
    );
  }
  if (args.metricsPath !== undefined && !args.metricsPath.startsWith("/")) {
    problems.push(`\`metricsPath\` ("${args.metricsPath}") must start with "/", e.g. "/metrics".`);
  }
  if (args.scrapeInterval !== undefined && !DURATION.test(args.scrapeInterval)) {
    problems.push(
      `\`scrapeInterval\` ("${args.scrapeInterval}") is not a duration: write e.g. "30s".`,
    );
  }
  if (args.job !== undefined && args.job.trim() === "") {
    problems.push('`job` is empty: leave it out for "monkeytown-api" or name the scrape job.');
  }
  if (args.requestDurationMetric !== undefined && !METRIC_NAME.test(args.requestDurationMetric)) {
    problems.push(
      `\`requestDurationMetric\` ("${args.requestDurationMetric}") is not a Prometheus metric name.`,
    );
  }
  if (args.statusCodeLabel !== undefined && !LABEL_NAME.test(args.statusCodeLabel)) {
    problems.push(
      `\`statusCodeLabel\` ("${args.statusCodeLabel}") is not a Prometheus label name.`,
    );
  }
  problems.push(...validateRouting(args.critical, args.warningDigest));
  problems.push(...thresholdProblems(args.thresholds).map((p) => p.message));
  return problems;
}

export class Alerts extends pulumi.ComponentResource {
  /** The PrometheusRule holding every alert. */
  public readonly prometheusRule: k8s.apiextensions.CustomResource;
  /** The ServiceMonitor scraping the API. */
  public readonly serviceMonitor: k8s.apiextensions.CustomResource;
  /** The AlertmanagerConfig routing alerts; absent when neither `critical` nor `warningDigest` is given. */
  public readonly alertmanagerConfig?: k8s.apiextensions.CustomResource;
  /** The thresholds in force (defaults merged with overrides). */
  public readonly thresholds: AlertThresholds;

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(ALERTS_TYPE, name, validateAlertsArgs(args));
    super(ALERTS_TYPE, name, {}, opts);
    this.thresholds = resolveAlertThresholds(args.thresholds);

    const metricsPort = args.metricsPort ?? ALERTS_DEFAULTS.metricsPort;
    const metricsPath = args.metricsPath ?? ALERTS_DEFAULTS.metricsPath;
    const scrapeInterval = args.scrapeInterval ?? ALERTS_DEFAULTS.scrapeInterval;
    const job = args.job ?? ALERTS_DEFAULTS.job;
    const requestDurationMetric =
      args.requestDurationMetric ?? ALERTS_DEFAULTS.requestDurationMetric;
    const statusCodeLabel = args.statusCodeLabel ?? ALERTS_DEFAULTS.statusCodeLabel;
    const runbookUrl = args.runbookUrl ?? ALERTS_DEFAULTS.runbookUrl;

    const metadata = (role: string) => ({
      name: `${name}-${role}`,
      namespace: args.namespace,
      labels: { ...selectorLabels("alerts", role), ...(args.operatorLabels ?? {}) },
    });

    this.prometheusRule = new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: metadata("rules"),
        spec: pulumi.all([args.namespace, args.hpaName]).apply(([namespace, hpaName]) =>
          buildAlertRules({
            namespace,
            job,
            thresholds: this.thresholds,
            hpaName: args.hpaName === undefined ? undefined : hpaName,
            requestDurationMetric,
            statusCodeLabel,
            runbookUrl,
          }),
        ),
      },
      { parent: this },
    );

    this.serviceMonitor = new k8s.apiextensions.CustomResource(
      `${name}-api-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: metadata("service-monitor"),
        spec: {
          selector: { matchLabels: { ...args.apiSelectorLabels } },
          namespaceSelector: { matchNames: [args.namespace] },
          endpoints: [
            {
              port: metricsPort,
              path: metricsPath,
              interval: scrapeInterval,
              // A fixed job label, so the rules do not depend on the Service's name.
              relabelings: [{ action: "replace", targetLabel: "job", replacement: job }],
            },
          ],
        },
      },
      { parent: this },
    );

    if (args.critical || args.warningDigest) {
      this.alertmanagerConfig = new k8s.apiextensions.CustomResource(
        `${name}-routing`,
        {
          apiVersion: "monitoring.coreos.com/v1alpha1",
          kind: "AlertmanagerConfig",
          metadata: metadata("routing"),
          spec: buildAlertmanagerConfigSpec(args.critical, args.warningDigest),
        },
        { parent: this },
      );
    }

    this.registerOutputs({
      prometheusRule: this.prometheusRule,
      serviceMonitor: this.serviceMonitor,
      alertmanagerConfig: this.alertmanagerConfig,
      thresholds: this.thresholds,
    });
  }
}
