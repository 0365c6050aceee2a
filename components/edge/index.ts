/**
 * Edge: the Cloudflare side of one environment. Proxied DNS records for its hostnames, cache rules
 * (fingerprinted `/assets/*` cached long at the edge; `/`, `index.html` and `/api` never cached),
 * TLS strict with HTTPS always and TLS 1.2 at least, a per-IP rate limit on `/api`, and Cloudflare's
 * managed WAF rules when `waf` is on.
 *
 * Every rule is scoped to this environment's hostnames. Cloudflare keeps one entry-point ruleset per
 * phase per zone and the TLS settings are zone-wide, so one Edge owns a zone: environments sharing a
 * zone must be served by one Edge (listing all their records), not one Edge each.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs } from "../args";

/** One proxied DNS record. */
export interface EdgeDnsRecordArgs {
  /** Full hostname, e.g. `staging.monkeytown.example`. */
  readonly hostname: string;
  /** What it points at: the ingress load balancer's hostname (CNAME) or address (A/AAAA). */
  readonly target: pulumi.Input<string>;
  /** Record type. @default "CNAME" */
  readonly type?: "CNAME" | "A" | "AAAA";
}

export interface EdgeArgs {
  /** Cloudflare zone id the hostnames belong to. */
  readonly zoneId: pulumi.Input<string>;
  /** The environment's proxied DNS records (at least one). */
  readonly records: readonly EdgeDnsRecordArgs[];
  /** How long the edge caches `/assets/*`, in seconds. @default 31536000 */
  readonly assetsEdgeTtlSeconds?: number;
  /** Requests one IP may make to `/api` per period before it is blocked. @default 100 */
  readonly apiRateLimitRequests?: number;
  /** Rate-limit counting period in seconds (10, 60, 120, 300, 600 or 3600). @default 60 */
  readonly apiRateLimitPeriodSeconds?: number;
  /** How long a rate-limited IP stays blocked, in seconds. @default 60 */
  readonly apiRateLimitBlockSeconds?: number;
  /** Oldest TLS version clients may use. @default "1.2" */
  readonly minTlsVersion?: "1.2" | "1.3";
  /** Execute Cloudflare managed WAF rulesets (production). @default false */
  readonly waf?: boolean;
  /** Managed rulesets run when `waf` is on. @default [CLOUDFLARE_MANAGED_RULESET_ID] */
  readonly wafManagedRulesetIds?: readonly string[];
}

/** Cloudflare's own managed WAF ruleset. */
export const CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee";
/** Cloudflare's OWASP Core Ruleset; opt in through `wafManagedRulesetIds`. */
export const CLOUDFLARE_OWASP_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f";

/** Defaults of {@link EdgeArgs}, applied once in {@link resolveEdgeArgs}. */
export const EDGE_DEFAULTS = {
  recordType: "CNAME",
  assetsEdgeTtlSeconds: 31_536_000,
  apiRateLimitRequests: 100,
  apiRateLimitPeriodSeconds: 60,
  apiRateLimitBlockSeconds: 60,
  minTlsVersion: "1.2",
  waf: false,
  wafManagedRulesetIds: [CLOUDFLARE_MANAGED_RULESET_ID],
} as const;

/** Periods and block times Cloudflare's rate limiting accepts. */
export const RATE_LIMIT_PERIODS = [10, 60, 120, 300, 600, 3600] as const;
export const RATE_LIMIT_BLOCK_TIMES = [0, 10, 60, 120, 300, 600, 3600, 86400] as const;

/** Arguments with every default applied. */
export interface ResolvedEdgeArgs {
  readonly records: readonly Required<EdgeDnsRecordArgs>[];
  readonly assetsEdgeTtlSeconds: number;
  readonly apiRateLimitRequests: number;
  readonly apiRateLimitPeriodSeconds: number;
  readonly apiRateLimitBlockSeconds: number;
  readonly minTlsVersion: "1.2" | "1.3";
  readonly waf: boolean;
  readonly wafManagedRulesetIds: readonly string[];
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const RULESET_ID = /^[0-9a-f]{32}$/;

const positiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** Check the arguments; returns every problem (empty when fine), each naming the argument and the fix. */
export function validateEdgeArgs(args: EdgeArgs): string[] {
  const problems: string[] = [];
  if (!args.records || args.records.length === 0) {
    problems.push("`records` is empty: give at least one hostname and the target it points at.");
  }
  const seen = new Set<string>();
  (args.records ?? []).forEach((record, i) => {
    const at = `\`records[${i}]\``;
    if (!HOSTNAME.test(record.hostname)) {
      problems.push(
        `${at}.hostname ("${record.hostname}") is not a lower-case DNS name such as "staging.example.com".`,
      );
    }
    if (seen.has(record.hostname)) {
      problems.push(
        `${at}.hostname ("${record.hostname}") is listed twice: keep one record per hostname.`,
      );
    }
    seen.add(record.hostname);
    const type = record.type ?? EDGE_DEFAULTS.recordType;
    if (!["CNAME", "A", "AAAA"].includes(type)) {
      problems.push(`${at}.type ("${type}") must be "CNAME", "A" or "AAAA".`);
    }
    if (typeof record.target === "string") {
      if (record.target.trim() === "") {
        problems.push(`${at}.target is empty: give the load balancer's hostname or address.`);
      } else if (type === "A" && !IPV4.test(record.target)) {
        problems.push(
          `${at}.target ("${record.target}") is not an IPv4 address: use type "CNAME" for a hostname.`,
        );
      } else if (type === "AAAA" && !record.target.includes(":")) {
        problems.push(
          `${at}.target ("${record.target}") is not an IPv6 address: use type "CNAME" for a hostname.`,
        );
      }
    }
  });
  if (args.assetsEdgeTtlSeconds !== undefined && !positiveInteger(args.assetsEdgeTtlSeconds)) {
    problems.push(
      `\`assetsEdgeTtlSeconds\` (${String(args.assetsEdgeTtlSeconds)}) must be a whole number of seconds above 0.`,
    );
  }
  if (args.apiRateLimitRequests !== undefined && !positiveInteger(args.apiRateLimitRequests)) {
    problems.push(
      `\`apiRateLimitRequests\` (${String(args.apiRateLimitRequests)}) must be a whole number above 0.`,
    );
  }
  const period = args.apiRateLimitPeriodSeconds;
  if (period !== undefined && !(RATE_LIMIT_PERIODS as readonly number[]).includes(period)) {
    problems.push(
      `\`apiRateLimitPeriodSeconds\` (${String(period)}) must be one of ${RATE_LIMIT_PERIODS.join(", ")} (Cloudflare's periods).`,
    );
  }
  const block = args.apiRateLimitBlockSeconds;
  if (block !== undefined && !(RATE_LIMIT_BLOCK_TIMES as readonly number[]).includes(block)) {
    problems.push(
      `\`apiRateLimitBlockSeconds\` (${String(block)}) must be one of ${RATE_LIMIT_BLOCK_TIMES.join(", ")}.`,
    );
  }
  if (args.minTlsVersion !== undefined && !["1.2", "1.3"].includes(args.minTlsVersion)) {
    problems.push(`\`minTlsVersion\` ("${String(args.minTlsVersion)}") must be "1.2" or "1.3".`);
  }
  if (args.wafManagedRulesetIds !== undefined) {
    if (args.waf !== true) {
      problems.push(
        "`wafManagedRulesetIds` is set but `waf` is not true: set `waf: true` or drop the ids.",
      );
    }
    if (args.wafManagedRulesetIds.length === 0) {
      problems.push(
        "`wafManagedRulesetIds` is empty: leave it out for Cloudflare's managed ruleset.",
      );
    }
    for (const id of args.wafManagedRulesetIds) {
      if (!RULESET_ID.test(id)) {
        problems.push(
          `\`wafManagedRulesetIds\` has "${id}", which is not a 32-hex-digit ruleset id.`,
        );
      }
    }
  }
  return problems;
}

/** The component's type token. */
export const EDGE_TYPE = "monkeytown:edge:Edge";

/**
 * Validate, then apply every default in one place. Throws an InvalidArgumentsError listing every
 * problem; `name` is the Edge's name, for that message.
 */
export function resolveEdgeArgs(args: EdgeArgs, name = "edge"): ResolvedEdgeArgs {
  checkArgs(EDGE_TYPE, name, validateEdgeArgs(args));
  return {
    records: args.records.map((r) => ({
      hostname: r.hostname,
      target: r.target,
      type: r.type ?? EDGE_DEFAULTS.recordType,
    })),
    assetsEdgeTtlSeconds: args.assetsEdgeTtlSeconds ?? EDGE_DEFAULTS.assetsEdgeTtlSeconds,
    apiRateLimitRequests: args.apiRateLimitRequests ?? EDGE_DEFAULTS.apiRateLimitRequests,
    apiRateLimitPeriodSeconds:
      args.apiRateLimitPeriodSeconds ?? EDGE_DEFAULTS.apiRateLimitPeriodSeconds,
    apiRateLimitBlockSeconds:
      args.apiRateLimitBlockSeconds ?? EDGE_DEFAULTS.apiRateLimitBlockSeconds,
    minTlsVersion: args.minTlsVersion ?? EDGE_DEFAULTS.minTlsVersion,
    waf: args.waf ?? EDGE_DEFAULTS.waf,
    wafManagedRulesetIds: args.wafManagedRulesetIds ?? EDGE_DEFAULTS.wafManagedRulesetIds,
  };
}

/** The Cloudflare expression matching requests for these hostnames. */
export function hostExpression(hostnames: readonly string[]): string {
  return `http.host in {${hostnames.map((h) => JSON.stringify(h)).join(" ")}}`;
}

/** Matches `/api` and everything under `/api/` (not `/apiary`). */
export const API_PATH_EXPRESSION =
  '(http.request.uri.path eq "/api" or starts_with(http.request.uri.path, "/api/"))';

/** A ruleset rule as this component writes it (a subset of `cloudflare.types.input.RulesetRule`). */
export type EdgeRule = cloudflare.types.input.RulesetRule;

/**
 * Cache rules (phase `http_request_cache_settings`): `/assets/*` is cache-eligible with a long edge
 * TTL (the files are fingerprinted, so a new build has new names); the SPA shell (`/`,
 * `/index.html`) and `/api` bypass the cache, so a deploy is visible at once and API answers are
 * never shared between users.
 */
export function buildCacheRules(
  hostnames: readonly string[],
  assetsEdgeTtlSeconds: number,
): EdgeRule[] {
  const host = hostExpression(hostnames);
  return [
    {
      ref: "assets_long_cache",
      description: "Fingerprinted /assets/*: cache at the edge for a long time",
      expression: `(${host} and starts_with(http.request.uri.path, "/assets/"))`,
      action: "set_cache_settings",
      actionParameters: {
        cache: true,
        edgeTtl: { mode: "override_origin", default: assetsEdgeTtlSeconds },
        browserTtl: { mode: "respect_origin" },
      },
      enabled: true,
    },
    {
      ref: "shell_and_api_bypass",
      description: "index.html, / and /api: never cached",
      expression:
        `(${host} and (http.request.uri.path in {"/" "/index.html"} or ` +
        `${API_PATH_EXPRESSION}))`,
      action: "set_cache_settings",
      actionParameters: { cache: false },
      enabled: true,
    },
  ];
}

/** The rate-limit rule (phase `http_ratelimit`): per IP and Cloudflare data centre, on `/api`. */
export function buildRateLimitRule(
  hostnames: readonly string[],
  limit: { requests: number; periodSeconds: number; blockSeconds: number },
): EdgeRule {
  return {
    ref: "api_per_ip_rate_limit",
    description: `/api: at most ${limit.requests} requests per ${limit.periodSeconds} s per IP`,
    expression: `(${hostExpression(hostnames)} and ${API_PATH_EXPRESSION})`,
    action: "block",
    ratelimit: {
      characteristics: ["ip.src", "cf.colo.id"],
      period: limit.periodSeconds,
      requestsPerPeriod: limit.requests,
      mitigationTimeout: limit.blockSeconds,
    },
    enabled: true,
  };
}

/** The managed WAF rules (phase `http_request_firewall_managed`): execute each managed ruleset. */
export function buildWafRules(
  hostnames: readonly string[],
  rulesetIds: readonly string[],
): EdgeRule[] {
  return rulesetIds.map((id) => ({
    ref: `managed_${id}`,
    description: `Execute managed ruleset ${id}`,
    expression: `(${hostExpression(hostnames)})`,
    action: "execute",
    actionParameters: { id },
    enabled: true,
  }));
}

/** Resource-name fragment for a hostname: `staging.example.com` → `staging-example-com`. */
export function hostnameSlug(hostname: string): string {
  return hostname.replace(/[^a-z0-9]+/g, "-");
}

export class Edge extends pulumi.ComponentResource {
  /** Proxied DNS records, by hostname. */
  public readonly dnsRecords: Record<string, cloudflare.DnsRecord>;
  /** Zone settings (`ssl`, `always_use_https`, `min_tls_version`), by setting id. */
  public readonly zoneSettings: Record<string, cloudflare.ZoneSetting>;
  /** The cache-rules entry-point ruleset. */
  public readonly cacheRuleset: cloudflare.Ruleset;
  /** The rate-limiting entry-point ruleset. */
  public readonly rateLimitRuleset: cloudflare.Ruleset;
  /** The managed-WAF entry-point ruleset; absent unless `waf` is on. */
  public readonly wafRuleset?: cloudflare.Ruleset;
  /** The environment's hostnames. */
  public readonly hostnames: string[];

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    const resolved = resolveEdgeArgs(args, name);
    super(EDGE_TYPE, name, {}, opts);
    const zoneId = args.zoneId;
    const hostnames = resolved.records.map((r) => r.hostname);
    this.hostnames = hostnames;

    this.dnsRecords = {};
    for (const record of resolved.records) {
      this.dnsRecords[record.hostname] = new cloudflare.DnsRecord(
        `${name}-dns-${hostnameSlug(record.hostname)}`,
        {
          zoneId,
          name: record.hostname,
          type: record.type,
          content: record.target,
          proxied: true,
          ttl: 1, // "automatic", the only TTL a proxied record has
          comment: "Managed by Pulumi (monkeytown)",
        },
        { parent: this },
      );
    }

    const settings: [role: string, id: string, value: string][] = [
      ["ssl", "ssl", "strict"],
      ["always-https", "always_use_https", "on"],
      ["min-tls", "min_tls_version", resolved.minTlsVersion],
    ];
    this.zoneSettings = {};
    for (const [role, settingId, value] of settings) {
      this.zoneSettings[settingId] = new cloudflare.ZoneSetting(
        `${name}-${role}`,
        { zoneId, settingId, value },
        { parent: this },
      );
    }

    this.cacheRuleset = new cloudflare.Ruleset(
      `${name}-cache-rules`,
      {
        zoneId,
        kind: "zone",
        phase: "http_request_cache_settings",
        name: "monkeytown cache rules",
        description: "Long edge cache for /assets/*, no cache for the SPA shell and /api",
        rules: buildCacheRules(hostnames, resolved.assetsEdgeTtlSeconds),
      },
      { parent: this },
    );

    this.rateLimitRuleset = new cloudflare.Ruleset(
      `${name}-rate-limit`,
      {
        zoneId,
        kind: "zone",
        phase: "http_ratelimit",
        name: "monkeytown rate limiting",
        description: "Per-IP rate limit on /api",
        rules: [
          buildRateLimitRule(hostnames, {
            requests: resolved.apiRateLimitRequests,
            periodSeconds: resolved.apiRateLimitPeriodSeconds,
            blockSeconds: resolved.apiRateLimitBlockSeconds,
          }),
        ],
      },
      { parent: this },
    );

    if (resolved.waf) {
      this.wafRuleset = new cloudflare.Ruleset(
        `${name}-waf`,
        {
          zoneId,
          kind: "zone",
          phase: "http_request_firewall_managed",
          name: "monkeytown managed WAF",
          description: "Cloudflare managed WAF rules",
          rules: buildWafRules(hostnames, resolved.wafManagedRulesetIds),
        },
        { parent: this },
      );
    }

    this.registerOutputs({
      dnsRecords: this.dnsRecords,
      zoneSettings: this.zoneSettings,
      cacheRuleset: this.cacheRuleset,
      rateLimitRuleset: this.rateLimitRuleset,
      wafRuleset: this.wafRuleset,
      hostnames: this.hostnames,
    });
  }
}
