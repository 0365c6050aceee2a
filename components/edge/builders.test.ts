import { describe, expect, it } from "vitest";
import {
  API_PATH_EXPRESSION,
  buildCacheRules,
  buildRateLimitRule,
  buildRateLimitTiers,
  buildWafRules,
  CLOUDFLARE_MANAGED_RULESET_ID,
  CLOUDFLARE_OWASP_RULESET_ID,
  hostExpression,
  resolveEdgeArgs,
  validateEdgeArgs,
} from "./index";

const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";

describe("Edge builders (no mocks)", () => {
  it("matches exactly the given hostnames", () => {
    expect(hostExpression(["a.example.com", "b.example.com"])).toBe(
      'http.host in {"a.example.com" "b.example.com"}',
    );
  });

  it("caches /assets/ long and bypasses /, /index.html and /api", () => {
    const [assets, bypass] = buildCacheRules(["www.example.com"], 86_400);
    expect(assets).toMatchObject({
      action: "set_cache_settings",
      expression:
        '(http.host in {"www.example.com"} and starts_with(http.request.uri.path, "/assets/"))',
      actionParameters: { cache: true, edgeTtl: { mode: "override_origin", default: 86_400 } },
    });
    expect(bypass.action).toBe("set_cache_settings");
    expect(bypass.actionParameters).toEqual({ cache: false });
    expect(bypass.expression).toContain('http.request.uri.path in {"/" "/index.html"}');
    expect(bypass.expression).toContain(API_PATH_EXPRESSION);
  });

  it("limits /api per IP and colo", () => {
    const rule = buildRateLimitRule(["api.example.com"], {
      requests: 100,
      periodSeconds: 60,
      blockSeconds: 600,
    });
    expect(rule.action).toBe("block");
    expect(rule.expression).toBe(`(http.host in {"api.example.com"} and ${API_PATH_EXPRESSION})`);
    expect(rule.ratelimit).toEqual({
      characteristics: ["ip.src", "cf.colo.id"],
      period: 60,
      requestsPerPeriod: 100,
      mitigationTimeout: 600,
    });
  });

  it("executes each managed ruleset", () => {
    const rules = buildWafRules(
      ["www.example.com"],
      [CLOUDFLARE_MANAGED_RULESET_ID, CLOUDFLARE_OWASP_RULESET_ID],
    );
    expect(rules.map((r) => [r.action, (r.actionParameters as { id: string }).id])).toEqual([
      ["execute", CLOUDFLARE_MANAGED_RULESET_ID],
      ["execute", CLOUDFLARE_OWASP_RULESET_ID],
    ]);
  });

  it("applies the seed's defaults", () => {
    expect(
      resolveEdgeArgs({
        zoneId: ZONE,
        records: [{ hostname: "example.com", target: "lb.example.net" }],
      }),
    ).toEqual({ records: [{ hostname: "example.com", target: "lb.example.net", type: "CNAME" }] });
    const resolved = resolveEdgeArgs({
      zoneId: ZONE,
      records: [{ hostname: "example.com", target: "lb.example.net" }],
      zone: { plan: "pro" },
    });
    expect(resolved.zone).toEqual({
      plan: "pro",
      hostnames: ["example.com"],
      advancedRateLimiting: false,
      assetsEdgeTtlSeconds: 31_536_000,
      // Infrastructure seed (003): per IP 100/min, global 1000/min, per user 500/min.
      apiRateLimitRequests: 100,
      apiRateLimitPeriodSeconds: 60,
      apiRateLimitBlockSeconds: 60,
      globalRateLimitRequests: 1000,
      userRateLimitRequests: 500,
      userKey: { header: "authorization" },
      minTlsVersion: "1.2",
      waf: false,
      wafManagedRulesetIds: [CLOUDFLARE_MANAGED_RULESET_ID],
    });
  });

  it("reports every bad argument at once", () => {
    expect(
      validateEdgeArgs({
        zoneId: ZONE,
        records: [
          { hostname: "Staging.Example.com", target: "lb" },
          { hostname: "a.example.com", target: "lb.example.net", type: "A" },
          { hostname: "a.example.com", target: "" },
        ],
        zone: {
          plan: "pro",
          apiRateLimitRequests: 0,
          apiRateLimitPeriodSeconds: 300,
          apiRateLimitBlockSeconds: 86400,
          advancedRateLimiting: true,
          userKey: { header: "Authorization" },
          wafManagedRulesetIds: ["nope"],
        },
      }),
    ).toEqual([
      '`records[0]`.hostname ("Staging.Example.com") is not a lower-case DNS name such as "staging.example.com".',
      '`records[1]`.target ("lb.example.net") is not an IPv4 address: use type "CNAME" for a hostname.',
      '`records[2]`.hostname ("a.example.com") is listed twice: keep one record per hostname.',
      "`records[2]`.target is empty: give the load balancer's hostname or address.",
      "`zone.apiRateLimitRequests` (0) must be a whole number above 0.",
      "`zone.apiRateLimitPeriodSeconds` (300) is not a period the Pro plan counts over: use 10, 60.",
      "`zone.apiRateLimitBlockSeconds` (86400) is not a block time the Pro plan offers: use 0, 10, 60, 120, 300, 600, 3600.",
      '`zone.advancedRateLimiting` is true on the Pro plan: Advanced Rate Limiting is an Enterprise add-on; set it to false or the plan to "enterprise".',
      '`zone.userKey` ({"header":"Authorization"}) must name a lower-case header (e.g. "authorization") or a cookie.',
      "`zone.wafManagedRulesetIds` is set but `zone.waf` is not true: set `waf: true` or drop the ids.",
      '`zone.wafManagedRulesetIds` has "nope", which is not a 32-hex-digit ruleset id.',
    ]);
    expect(validateEdgeArgs({ zoneId: ZONE, records: [] })).toEqual([
      "`records` is empty: give at least one hostname and the target it points at.",
    ]);
  });
});

describe("what each Cloudflare plan can express of the seed's rate limits", () => {
  // Cloudflare's availability table: Free counts over 10 s, Pro up to 60 s, Business up to 600 s;
  // only Enterprise with Advanced Rate Limiting counts by Host, header or cookie.
  it.each([
    ["free", false, ["per-ip: no", "global: no", "per-user: no"]],
    ["pro", false, ["per-ip: rule", "global: no", "per-user: no"]],
    ["business", false, ["per-ip: rule", "global: no", "per-user: no"]],
    ["enterprise", false, ["per-ip: rule", "global: no", "per-user: no"]],
    ["enterprise", true, ["per-ip: rule", "global: rule", "per-user: rule"]],
  ] as const)("%s (Advanced Rate Limiting: %s)", (plan, arl, expected) => {
    const { zone } = resolveEdgeArgs({
      zoneId: ZONE,
      records: [{ hostname: "example.com", target: "lb.example.net" }],
      zone: { plan, advancedRateLimiting: arl },
    });
    const tiers = buildRateLimitTiers(zone!);
    expect(tiers.map((t) => `${t.tier}: ${t.rule ? "rule" : "no"}`)).toEqual(expected);
    for (const t of tiers) expect(t.rule === undefined).toBe(t.notExpressible !== undefined);
    expect(tiers.filter((t) => t.rule).length).toBeLessThanOrEqual(
      { free: 1, pro: 2, business: 5, enterprise: 100 }[plan],
    );
  });
});
