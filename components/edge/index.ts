/**
 * Edge: the Cloudflare side of the site. Every environment gets its proxied DNS records. The zone's
 * settings and entry-point rulesets exist once per zone, so only the Edge given `zone` (the stack
 * with `edge.manageZone`) makes them, with every rule scoped to the hostnames it lists: SSL strict,
 * HTTPS always, TLS 1.2 at least; cache rules (fingerprinted `/assets/*` cached long at the edge;
 * `/`, `index.html` and `/api` never cached); the seed's rate-limit tiers on `/api` that the zone's
 * plan can express (see ./plans.ts); and Cloudflare's managed WAF rules when `waf` is on.
 *
 * Environments sharing a zone (staging.monkeytown.app and monkeytown.app) therefore never fight
 * over one zone object: staging's Edge has records only, production's lists staging's hostname.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs, PKG } from "../args";
import {
  CLOUDFLARE_PLANS,
  PLAN_CAPABILITIES,
  PLAN_NAMES,
  tierNotExpressible,
  type CloudflarePlan,
  type RateLimitTierName,
} from "./plans";
import { ASSET_CACHE_SECONDS } from "../web/nginx";

export * from "./plans";

/** One proxied DNS record. */
export interface EdgeDnsRecordArgs {
  /** Full hostname, e.g. `staging.monkeytown.example`. */
  readonly hostname: string;
  /** What it points at: the ingress load balancer's hostname (CNAME) or address (A/AAAA). */
  readonly target: pulumi.Input<string>;
  /** Record type. @default "CNAME" */
  readonly type?: "CNAME" | "A" | "AAAA";
}

/** What identifies a user for the per-user rate limit: a request header or a cookie. */
export type UserKey = { readonly header: string } | { readonly cookie: string };

/**
 * The zone's settings and entry-point rulesets. Cloudflare keeps one of each per zone: give this
 * to exactly one Edge per zone, listing every hostname its rules cover.
 */
export interface EdgeZoneArgs {
  /** The zone's Cloudflare plan: it decides which rate-limit tiers and WAF rules can exist. */
  readonly plan: CloudflarePlan;
  /** Every proxied hostname the zone's rules cover (other stacks' too). @default the records' hostnames */
  readonly hostnames?: readonly string[];
  /** The zone has Enterprise's Advanced Rate Limiting (Host, header and cookie counting). @default false */
  readonly advancedRateLimiting?: boolean;
  /** How long the edge caches `/assets/*`, in seconds. @default ASSET_CACHE_SECONDS (a year, as nginx tells browsers) */
  readonly assetsEdgeTtlSeconds?: number;
  /** Requests one IP may make to `/api` per period before it is blocked. @default 100 */
  readonly apiRateLimitRequests?: number;
  /** Rate-limit counting period in seconds (10, 60, 120, 300, 600 or 3600). @default 60 */
  readonly apiRateLimitPeriodSeconds?: number;
  /** How long a rate-limited client stays blocked, in seconds. @default 60 */
  readonly apiRateLimitBlockSeconds?: number;
  /** Requests per minute to `/api` from every client together (per data centre). @default 1000 */
  readonly globalRateLimitRequests?: number;
  /** Requests per minute to `/api` per user, keyed by `userKey`. @default 500 */
  readonly userRateLimitRequests?: number;
  /** What identifies a user. @default { header: "authorization" } */
  readonly userKey?: UserKey;
  /** Oldest TLS version clients may use. @default "1.2" */
  readonly minTlsVersion?: "1.2" | "1.3";
  /** Execute Cloudflare managed WAF rulesets. @default false */
  readonly waf?: boolean;
  /** Managed rulesets run when `waf` is on. @default [CLOUDFLARE_MANAGED_RULESET_ID] */
  readonly wafManagedRulesetIds?: readonly string[];
}

export interface EdgeArgs {
  /** Cloudflare zone id the hostnames belong to. */
  readonly zoneId: pulumi.Input<string>;
  /** The environment's proxied DNS records (at least one). */
  readonly records: readonly EdgeDnsRecordArgs[];
  /** The zone's settings and rulesets; only for the one Edge that owns the zone. */
  readonly zone?: EdgeZoneArgs;
}

/** Cloudflare's own managed WAF ruleset. */
export const CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee";
/** Cloudflare's OWASP Core Ruleset; opt in through `wafManagedRulesetIds`. */
export const CLOUDFLARE_OWASP_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f";

/** Defaults of {@link EdgeArgs}, applied once in {@link resolveEdgeArgs}. */
export const EDGE_DEFAULTS = {
  recordType: "CNAME",
  assetsEdgeTtlSeconds: ASSET_CACHE_SECONDS,
  apiRateLimitRequests: 100,
  apiRateLimitPeriodSeconds: 60,
  apiRateLimitBlockSeconds: 60,
  globalRateLimitRequests: 1000,
  userRateLimitRequests: 500,
  userKey: { header: "authorization" },
  minTlsVersion: "1.2",
  advancedRateLimiting: false,
  waf: false,
  wafManagedRulesetIds: [CLOUDFLARE_MANAGED_RULESET_ID],
} as const;

/** Periods and block times Cloudflare's rate limiting API accepts (the plan narrows them). */
export const RATE_LIMIT_PERIODS = [10, 60, 120, 300, 600, 3600] as const;
export const RATE_LIMIT_BLOCK_TIMES = [0, 10, 60, 120, 300, 600, 3600, 86400] as const;

/** The zone arguments with every default applied. */
export interface ResolvedEdgeZone {
  readonly plan: CloudflarePlan;
  readonly hostnames: readonly string[];
  readonly advancedRateLimiting: boolean;
  readonly assetsEdgeTtlSeconds: number;
  readonly apiRateLimitRequests: number;
  readonly apiRateLimitPeriodSeconds: number;
  readonly apiRateLimitBlockSeconds: number;
  readonly globalRateLimitRequests: number;
  readonly userRateLimitRequests: number;
  readonly userKey: UserKey;
  readonly minTlsVersion: "1.2" | "1.3";
  readonly waf: boolean;
  readonly wafManagedRulesetIds: readonly string[];
}

/** Arguments with every default applied. */
export interface ResolvedEdgeArgs {
  readonly records: readonly Required<EdgeDnsRecordArgs>[];
  readonly zone?: ResolvedEdgeZone;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const RULESET_ID = /^[0-9a-f]{32}$/;
/** A header name Cloudflare can count by (lower-case, as its API wants) or a cookie name. */
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const positiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

function validateRecords(args: EdgeArgs, problems: string[]): void {
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
}

function validateZone(args: EdgeArgs, z: EdgeZoneArgs, problems: string[]): void {
  if (!CLOUDFLARE_PLANS.includes(z.plan)) {
    problems.push(
      `\`zone.plan\` ("${String(z.plan)}") must be one of ${CLOUDFLARE_PLANS.map((p) => `"${p}"`).join(", ")}.`,
    );
    return;
  }
  const caps = PLAN_CAPABILITIES[z.plan];
  const plan = PLAN_NAMES[z.plan];
  if (z.hostnames !== undefined) {
    z.hostnames.forEach((h, i) => {
      if (!HOSTNAME.test(h)) {
        problems.push(`\`zone.hostnames[${i}]\` ("${h}") is not a lower-case DNS name.`);
      }
    });
    for (const record of args.records ?? []) {
      if (!z.hostnames.includes(record.hostname)) {
        problems.push(
          `\`zone.hostnames\` leaves out "${record.hostname}", a record of this Edge: its traffic would get none of the zone's rules; add it.`,
        );
      }
    }
  }
  for (const key of [
    "assetsEdgeTtlSeconds",
    "apiRateLimitRequests",
    "globalRateLimitRequests",
    "userRateLimitRequests",
  ] as const) {
    if (z[key] !== undefined && !positiveInteger(z[key])) {
      problems.push(`\`zone.${key}\` (${String(z[key])}) must be a whole number above 0.`);
    }
  }
  const period = z.apiRateLimitPeriodSeconds;
  if (period !== undefined && !caps.periods.includes(period)) {
    problems.push(
      `\`zone.apiRateLimitPeriodSeconds\` (${String(period)}) is not a period the ${plan} plan counts over: use ${caps.periods.join(", ")}.`,
    );
  }
  const block = z.apiRateLimitBlockSeconds;
  if (block !== undefined && !caps.blockTimes.includes(block)) {
    problems.push(
      `\`zone.apiRateLimitBlockSeconds\` (${String(block)}) is not a block time the ${plan} plan offers: use ${caps.blockTimes.join(", ")}.`,
    );
  }
  if (z.advancedRateLimiting === true && z.plan !== "enterprise") {
    problems.push(
      `\`zone.advancedRateLimiting\` is true on the ${plan} plan: Advanced Rate Limiting is an Enterprise add-on; set it to false or the plan to "enterprise".`,
    );
  }
  if (z.userKey !== undefined) {
    const ok =
      "header" in z.userKey
        ? HEADER_NAME.test(z.userKey.header)
        : COOKIE_NAME.test(z.userKey.cookie);
    if (!ok) {
      problems.push(
        `\`zone.userKey\` (${JSON.stringify(z.userKey)}) must name a lower-case header (e.g. "authorization") or a cookie.`,
      );
    }
  }
  if (z.minTlsVersion !== undefined && !["1.2", "1.3"].includes(z.minTlsVersion)) {
    problems.push(`\`zone.minTlsVersion\` ("${String(z.minTlsVersion)}") must be "1.2" or "1.3".`);
  }
  if (z.waf === true && !caps.managedWaf) {
    problems.push(
      `\`zone.waf\` is true on the ${plan} plan, which cannot deploy Cloudflare's managed WAF rulesets (Pro and above): turn waf off or raise the plan.`,
    );
  }
  if (z.wafManagedRulesetIds !== undefined) {
    if (z.waf !== true) {
      problems.push(
        "`zone.wafManagedRulesetIds` is set but `zone.waf` is not true: set `waf: true` or drop the ids.",
      );
    }
    if (z.wafManagedRulesetIds.length === 0) {
      problems.push(
        "`zone.wafManagedRulesetIds` is empty: leave it out for Cloudflare's managed ruleset.",
      );
    }
    for (const id of z.wafManagedRulesetIds) {
      if (!RULESET_ID.test(id)) {
        problems.push(
          `\`zone.wafManagedRulesetIds\` has "${id}", which is not a 32-hex-digit ruleset id.`,
        );
      }
    }
  }
}

/** Check the arguments; returns every problem (empty when fine), each naming the argument and the fix. */
export function validateEdgeArgs(args: EdgeArgs): string[] {
  const problems: string[] = [];
  validateRecords(args, problems);
  if (args.zone !== undefined) validateZone(args, args.zone, problems);
  return problems;
}

/** The component's type token. */
export const EDGE_TYPE = `${PKG}:edge:Edge`;

/**
 * Validate, then apply every default in one place. Throws an InvalidArgumentsError listing every
 * problem; `name` is the Edge's name, for that message.
 */
export function resolveEdgeArgs(args: EdgeArgs, name = "edge"): ResolvedEdgeArgs {
  checkArgs(EDGE_TYPE, name, validateEdgeArgs(args));
  const records = args.records.map((r) => ({
    hostname: r.hostname,
    target: r.target,
    type: r.type ?? EDGE_DEFAULTS.recordType,
  }));
  const z = args.zone;
  if (z === undefined) return { records };
  const d = EDGE_DEFAULTS;
  return {
    records,
    zone: {
      plan: z.plan,
      hostnames: z.hostnames ?? records.map((r) => r.hostname),
      advancedRateLimiting: z.advancedRateLimiting ?? d.advancedRateLimiting,
      assetsEdgeTtlSeconds: z.assetsEdgeTtlSeconds ?? d.assetsEdgeTtlSeconds,
      apiRateLimitRequests: z.apiRateLimitRequests ?? d.apiRateLimitRequests,
      apiRateLimitPeriodSeconds: z.apiRateLimitPeriodSeconds ?? d.apiRateLimitPeriodSeconds,
      apiRateLimitBlockSeconds: z.apiRateLimitBlockSeconds ?? d.apiRateLimitBlockSeconds,
      globalRateLimitRequests: z.globalRateLimitRequests ?? d.globalRateLimitRequests,
      userRateLimitRequests: z.userRateLimitRequests ?? d.userRateLimitRequests,
      userKey: z.userKey ?? d.userKey,
      minTlsVersion: z.minTlsVersion ?? d.minTlsVersion,
      waf: z.waf ?? d.waf,
      wafManagedRulesetIds: z.wafManagedRulesetIds ?? d.wafManagedRulesetIds,
    },
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

/** The Cloudflare field holding the user key: `http.request.headers["x"]` or `http.request.cookies["x"]`. */
export function userKeyField(key: UserKey): string {
  return "header" in key
    ? `http.request.headers[${JSON.stringify(key.header)}]`
    : `http.request.cookies[${JSON.stringify(key.cookie)}]`;
}

/** One of the seed's rate-limit tiers: the rule that enforces it, or why the plan cannot. */
export interface RateLimitTier {
  readonly tier: RateLimitTierName;
  /** Requests allowed per period. */
  readonly requests: number;
  readonly periodSeconds: number;
  /** The rule, when the zone's plan can express the tier. */
  readonly rule?: EdgeRule;
  /** Why there is no rule, when it cannot. */
  readonly notExpressible?: string;
}

/**
 * The infrastructure seed's three tiers on `/api` (per IP 100/min, global 1000/min, per user
 * 500/min), each as a rule where the zone's plan can express it. Counters are always per Cloudflare
 * data centre (`cf.colo.id` is mandatory): "global" is every client of a hostname in one data
 * centre, the closest Cloudflare comes to a global count. Per user counts by `userKey` and only
 * requests that carry it; anonymous requests are left to the per-IP tier.
 */
export function buildRateLimitTiers(zone: ResolvedEdgeZone): RateLimitTier[] {
  const host = hostExpression(zone.hostnames);
  const minute = 60;
  const tiers: RateLimitTier[] = [];
  const plan = (tier: RateLimitTierName, period: number) =>
    tierNotExpressible(tier, zone.plan, zone.advancedRateLimiting, period);

  const perIp = plan("per-ip", zone.apiRateLimitPeriodSeconds);
  tiers.push({
    tier: "per-ip",
    requests: zone.apiRateLimitRequests,
    periodSeconds: zone.apiRateLimitPeriodSeconds,
    ...(perIp
      ? { notExpressible: perIp }
      : {
          rule: buildRateLimitRule(zone.hostnames, {
            requests: zone.apiRateLimitRequests,
            periodSeconds: zone.apiRateLimitPeriodSeconds,
            blockSeconds: zone.apiRateLimitBlockSeconds,
          }),
        }),
  });

  const global = plan("global", minute);
  tiers.push({
    tier: "global",
    requests: zone.globalRateLimitRequests,
    periodSeconds: minute,
    ...(global
      ? { notExpressible: global }
      : {
          rule: {
            ref: "api_global_rate_limit",
            description: `/api: at most ${zone.globalRateLimitRequests} requests per minute per hostname (per data centre)`,
            expression: `(${host} and ${API_PATH_EXPRESSION})`,
            action: "block",
            ratelimit: {
              characteristics: ["cf.colo.id", "http.host"],
              period: minute,
              requestsPerPeriod: zone.globalRateLimitRequests,
              mitigationTimeout: zone.apiRateLimitBlockSeconds,
            },
            enabled: true,
          },
        }),
  });

  const field = userKeyField(zone.userKey);
  const perUser = plan("per-user", minute);
  tiers.push({
    tier: "per-user",
    requests: zone.userRateLimitRequests,
    periodSeconds: minute,
    ...(perUser
      ? { notExpressible: perUser }
      : {
          rule: {
            ref: "api_per_user_rate_limit",
            description: `/api: at most ${zone.userRateLimitRequests} requests per minute per user (${field})`,
            expression: `(${host} and ${API_PATH_EXPRESSION} and any(${field}[*] ne ""))`,
            action: "block",
            ratelimit: {
              characteristics: ["cf.colo.id", field],
              period: minute,
              requestsPerPeriod: zone.userRateLimitRequests,
              mitigationTimeout: zone.apiRateLimitBlockSeconds,
            },
            enabled: true,
          },
        }),
  });
  return tiers;
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
  /** Zone settings (`ssl`, `always_use_https`, `min_tls_version`), by setting id; only with `zone`. */
  public readonly zoneSettings: Record<string, cloudflare.ZoneSetting>;
  /** The cache-rules entry-point ruleset; only with `zone`. */
  public readonly cacheRuleset?: cloudflare.Ruleset;
  /** The rate-limiting entry-point ruleset; only with `zone` and a tier the plan can express. */
  public readonly rateLimitRuleset?: cloudflare.Ruleset;
  /** The managed-WAF entry-point ruleset; only with `zone` and `waf` on. */
  public readonly wafRuleset?: cloudflare.Ruleset;
  /** The seed's rate-limit tiers and how each is enforced (empty without `zone`). */
  public readonly rateLimitTiers: readonly RateLimitTier[];
  /** This environment's hostnames (its records). */
  public readonly hostnames: string[];

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    const resolved = resolveEdgeArgs(args, name);
    super(EDGE_TYPE, name, {}, opts);
    const zoneId = args.zoneId;
    this.hostnames = resolved.records.map((r) => r.hostname);

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

    this.zoneSettings = {};
    const zone = resolved.zone;
    this.rateLimitTiers = zone ? buildRateLimitTiers(zone) : [];
    if (zone) {
      const settings: [role: string, id: string, value: string][] = [
        ["ssl", "ssl", "strict"],
        ["always-https", "always_use_https", "on"],
        ["min-tls", "min_tls_version", zone.minTlsVersion],
      ];
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
          rules: buildCacheRules(zone.hostnames, zone.assetsEdgeTtlSeconds),
        },
        { parent: this },
      );

      const rules = this.rateLimitTiers.flatMap((t) => (t.rule ? [t.rule] : []));
      for (const t of this.rateLimitTiers) {
        if (t.notExpressible) {
          void pulumi.log.warn(
            `the ${t.tier} rate limit (${t.requests} requests per ${t.periodSeconds} s on /api) is not enforced at the edge: ${t.notExpressible}. See README "Rate limits".`,
            this,
          );
        }
      }
      if (rules.length > 0) {
        this.rateLimitRuleset = new cloudflare.Ruleset(
          `${name}-rate-limit`,
          {
            zoneId,
            kind: "zone",
            phase: "http_ratelimit",
            name: "monkeytown rate limiting",
            description: `Rate limits on /api: ${this.rateLimitTiers
              .filter((t) => t.rule)
              .map((t) => t.tier)
              .join(", ")}`,
            rules,
          },
          { parent: this },
        );
      }

      if (zone.waf) {
        this.wafRuleset = new cloudflare.Ruleset(
          `${name}-waf`,
          {
            zoneId,
            kind: "zone",
            phase: "http_request_firewall_managed",
            name: "monkeytown managed WAF",
            description: "Cloudflare managed WAF rules",
            rules: buildWafRules(zone.hostnames, zone.wafManagedRulesetIds),
          },
          { parent: this },
        );
      }
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
