/**
 * Alert routing as data: the AlertmanagerConfig (monitoring.coreos.com/v1alpha1) `spec` that sends
 * `severity=critical` to a Slack or Discord webhook and `severity=warning` to a daily email digest.
 * Credentials appear only as Secret key references; this module never sees a webhook URL or a
 * password.
 */
import * as pulumi from "@pulumi/pulumi";

/** A key of a Kubernetes Secret in the alerts namespace (the Secret is created elsewhere). */
export interface SecretKeyRef {
  /** Name of the Secret. */
  readonly name: pulumi.Input<string>;
  /** Key inside the Secret. */
  readonly key: pulumi.Input<string>;
}

/** Where critical alerts go: a chat webhook. */
export interface CriticalWebhookArgs {
  /** Chat service the webhook belongs to. */
  readonly kind: "slack" | "discord";
  /** Secret key holding the webhook URL. */
  readonly urlSecret: SecretKeyRef;
  /** Slack channel to post in, overriding the webhook's own (Slack only). */
  readonly channel?: pulumi.Input<string>;
  /** Resend a still-firing critical alert this often. @default "4h" */
  readonly repeatInterval?: string;
}

/** Where warnings go: one email digest a day. */
export interface EmailDigestArgs {
  /** Recipient address. */
  readonly to: pulumi.Input<string>;
  /** Sender address. */
  readonly from: pulumi.Input<string>;
  /** SMTP server as `host:port`. */
  readonly smarthost: pulumi.Input<string>;
  /** SMTP user name, when the server wants authentication. */
  readonly authUsername?: pulumi.Input<string>;
  /** Secret key holding the SMTP password (needs `authUsername`). */
  readonly authPassword?: SecretKeyRef;
  /** How often the digest is sent (Alertmanager group and repeat interval). @default "24h" */
  readonly interval?: string;
}

/** Receiver names in the generated config. */
export const RECEIVERS = {
  none: "null",
  critical: "critical-webhook",
  digest: "warning-digest",
} as const;

/** Defaults of the routing arguments, applied in {@link buildAlertmanagerConfigSpec} only. */
export const ROUTING_DEFAULTS = {
  criticalRepeatInterval: "4h",
  digestInterval: "24h",
} as const;

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Check routing args; returns every problem (empty when fine), each naming the field and the fix. */
export function validateRouting(
  critical: CriticalWebhookArgs | undefined,
  digest: EmailDigestArgs | undefined,
): string[] {
  const problems: string[] = [];
  if (critical) {
    if (critical.kind !== "slack" && critical.kind !== "discord") {
      problems.push(`\`critical.kind\` ("${String(critical.kind)}") must be "slack" or "discord".`);
    }
    if (critical.kind === "discord" && critical.channel !== undefined) {
      problems.push("`critical.channel` only applies to Slack: remove it for a Discord webhook.");
    }
    if (critical.repeatInterval !== undefined && !DURATION.test(critical.repeatInterval)) {
      problems.push(
        `\`critical.repeatInterval\` ("${critical.repeatInterval}") is not a duration: write e.g. "4h".`,
      );
    }
  }
  if (digest) {
    if (digest.authPassword && digest.authUsername === undefined) {
      problems.push(
        "`warningDigest.authPassword` is set without `authUsername`: set both or neither.",
      );
    }
    if (typeof digest.smarthost === "string" && !/^[^\s:]+:\d+$/.test(digest.smarthost)) {
      problems.push(
        `\`warningDigest.smarthost\` ("${digest.smarthost}") must be host:port, e.g. "smtp.example.com:587".`,
      );
    }
    for (const field of ["to", "from"] as const) {
      const value = digest[field];
      if (typeof value === "string" && !/^[^\s@]+@[^\s@]+$/.test(value)) {
        problems.push(`\`warningDigest.${field}\` ("${value}") is not an email address.`);
      }
    }
    if (digest.interval !== undefined && !DURATION.test(digest.interval)) {
      problems.push(
        `\`warningDigest.interval\` ("${digest.interval}") is not a duration: write e.g. "24h".`,
      );
    }
  }
  return problems;
}

const severityIs = (severity: string) => [{ name: "severity", value: severity, matchType: "=" }];

/**
 * Build the AlertmanagerConfig spec. The root route drops what no child route takes (the `null`
 * receiver); critical alerts page through the webhook within a minute, warnings are grouped into
 * one email per digest interval. A firing critical alert silences the warning of the same name.
 */
export function buildAlertmanagerConfigSpec(
  critical: CriticalWebhookArgs | undefined,
  digest: EmailDigestArgs | undefined,
): Record<string, unknown> {
  const receivers: Record<string, unknown>[] = [{ name: RECEIVERS.none }];
  const routes: Record<string, unknown>[] = [];

  if (critical) {
    const webhook =
      critical.kind === "slack"
        ? {
            slackConfigs: [
              {
                apiURL: { name: critical.urlSecret.name, key: critical.urlSecret.key },
                ...(critical.channel !== undefined ? { channel: critical.channel } : {}),
                sendResolved: true,
              },
            ],
          }
        : {
            discordConfigs: [
              {
                apiURL: { name: critical.urlSecret.name, key: critical.urlSecret.key },
                sendResolved: true,
              },
            ],
          };
    receivers.push({ name: RECEIVERS.critical, ...webhook });
    routes.push({
      receiver: RECEIVERS.critical,
      matchers: severityIs("critical"),
      groupBy: ["alertname", "namespace"],
      groupWait: "30s",
      groupInterval: "5m",
      repeatInterval: critical.repeatInterval ?? ROUTING_DEFAULTS.criticalRepeatInterval,
    });
  }

  if (digest) {
    const interval = digest.interval ?? ROUTING_DEFAULTS.digestInterval;
    receivers.push({
      name: RECEIVERS.digest,
      emailConfigs: [
        {
          to: digest.to,
          from: digest.from,
          smarthost: digest.smarthost,
          ...(digest.authUsername !== undefined ? { authUsername: digest.authUsername } : {}),
          ...(digest.authPassword
            ? { authPassword: { name: digest.authPassword.name, key: digest.authPassword.key } }
            : {}),
          requireTLS: true,
          sendResolved: false,
        },
      ],
    });
    routes.push({
      receiver: RECEIVERS.digest,
      matchers: severityIs("warning"),
      // One group per namespace: all warnings of the day land in the same email.
      groupBy: ["namespace"],
      groupWait: "5m",
      groupInterval: interval,
      repeatInterval: interval,
    });
  }

  return {
    route: { receiver: RECEIVERS.none, groupBy: ["alertname", "namespace"], routes },
    receivers,
    inhibitRules: [
      {
        sourceMatch: severityIs("critical"),
        targetMatch: severityIs("warning"),
        // Labels absent on both alerts count as equal, so this also fits the per-pod and per-volume alerts.
        equal: ["alertname", "namespace", "pod", "container", "persistentvolumeclaim"],
      },
    ],
  };
}
