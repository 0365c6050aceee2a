/**
 * What a Cloudflare plan lets a zone's rate limiting rules and WAF do. Pure data (no Pulumi), so
 * the stack config (config/schema.ts) and the Edge component judge a plan with the same table.
 *
 * Source: Cloudflare's "Rate limiting rules: availability" table
 * (developers.cloudflare.com/waf/rate-limiting-rules/#availability) and the rule parameters page
 * (…/rate-limiting-rules/parameters/): the API's counting periods are 10, 60, 120, 300, 600 and
 * 3600 s; mitigation timeouts 0, 10, 60, 120, 300, 600, 3600 and 86400 s; `cf.colo.id` (the data
 * centre) is a mandatory characteristic, so every counter is per data centre.
 */

/** The zone's Cloudflare plan. */
export type CloudflarePlan = "free" | "pro" | "business" | "enterprise";
export const CLOUDFLARE_PLANS: readonly CloudflarePlan[] = [
  "free",
  "pro",
  "business",
  "enterprise",
];

/** Plan names as Cloudflare writes them, for messages. */
export const PLAN_NAMES: Readonly<Record<CloudflarePlan, string>> = {
  free: "Free",
  pro: "Pro",
  business: "Business",
  enterprise: "Enterprise",
};

export interface PlanCapabilities {
  /** Rate limiting rules the zone may have. */
  readonly rateLimitRules: number;
  /** Counting periods (seconds) a rule may use. */
  readonly periods: readonly number[];
  /** Mitigation timeouts (seconds) a block may last. */
  readonly blockTimes: readonly number[];
  /** Whether a rate limiting rule's expression may test the host (Free: path and verified bot only). */
  readonly hostInExpression: boolean;
  /** Whether Cloudflare's managed WAF rulesets can be deployed (Free has only the Free Managed Ruleset). */
  readonly managedWaf: boolean;
}

export const PLAN_CAPABILITIES: Readonly<Record<CloudflarePlan, PlanCapabilities>> = {
  free: {
    rateLimitRules: 1,
    periods: [10],
    blockTimes: [10],
    hostInExpression: false,
    managedWaf: false,
  },
  pro: {
    rateLimitRules: 2,
    periods: [10, 60],
    blockTimes: [0, 10, 60, 120, 300, 600, 3600],
    hostInExpression: true,
    managedWaf: true,
  },
  business: {
    rateLimitRules: 5,
    periods: [10, 60, 120, 300, 600],
    blockTimes: [0, 10, 60, 120, 300, 600, 3600, 86400],
    hostInExpression: true,
    managedWaf: true,
  },
  enterprise: {
    rateLimitRules: 100,
    periods: [10, 60, 120, 300, 600, 3600],
    blockTimes: [0, 10, 60, 120, 300, 600, 3600, 86400],
    hostInExpression: true,
    managedWaf: true,
  },
};

/** The three rate-limit tiers of the infrastructure seed (003, API Service, Rate Limiting). */
export type RateLimitTierName = "per-ip" | "global" | "per-user";

/**
 * Why a tier cannot be a rule on this plan, or undefined when it can. `period` is the counting
 * period the tier asks for (60 s: the seed's limits are per minute).
 */
export function tierNotExpressible(
  tier: RateLimitTierName,
  plan: CloudflarePlan,
  advancedRateLimiting: boolean,
  period: number,
): string | undefined {
  const caps = PLAN_CAPABILITIES[plan];
  const name = PLAN_NAMES[plan];
  if (!caps.periods.includes(period)) {
    return `the ${name} plan counts over ${caps.periods.join(" or ")} s only, not ${period} s${
      caps.hostInExpression ? "" : ", and its rate limiting rules cannot test the host"
    }`;
  }
  if (tier === "per-ip") return undefined;
  if (plan !== "enterprise" || !advancedRateLimiting) {
    return tier === "global"
      ? `the ${name} plan counts by client IP only (ip.src; Host, header and cookie characteristics need Enterprise with Advanced Rate Limiting), so no rule can count every client together`
      : `the ${name} plan counts by client IP only (ip.src): counting by a user's header or cookie needs Enterprise with Advanced Rate Limiting`;
  }
  return undefined;
}
