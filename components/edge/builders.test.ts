import { describe, expect, it } from "vitest";
import {
  API_PATH_EXPRESSION,
  buildCacheRules,
  buildRateLimitRule,
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
    const resolved = resolveEdgeArgs({
      zoneId: ZONE,
      records: [{ hostname: "example.com", target: "lb.example.net" }],
    });
    expect(resolved).toEqual({
      records: [{ hostname: "example.com", target: "lb.example.net", type: "CNAME" }],
      assetsEdgeTtlSeconds: 31_536_000,
      apiRateLimitRequests: 100,
      apiRateLimitPeriodSeconds: 60,
      apiRateLimitBlockSeconds: 60,
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
        apiRateLimitRequests: 0,
        apiRateLimitPeriodSeconds: 30,
        apiRateLimitBlockSeconds: 5,
        wafManagedRulesetIds: ["nope"],
      }),
    ).toEqual([
      '`records[0]`.hostname ("Staging.Example.com") is not a lower-case DNS name such as "staging.example.com".',
      '`records[1]`.target ("lb.example.net") is not an IPv4 address: use type "CNAME" for a hostname.',
      '`records[2]`.hostname ("a.example.com") is listed twice: keep one record per hostname.',
      "`records[2]`.target is empty: give the load balancer's hostname or address.",
      "`apiRateLimitRequests` (0) must be a whole number above 0.",
      "`apiRateLimitPeriodSeconds` (30) must be one of 10, 60, 120, 300, 600, 3600 (Cloudflare's periods).",
      "`apiRateLimitBlockSeconds` (5) must be one of 0, 10, 60, 120, 300, 600, 3600, 86400.",
      "`wafManagedRulesetIds` is set but `waf` is not true: set `waf: true` or drop the ids.",
      '`wafManagedRulesetIds` has "nope", which is not a 32-hex-digit ruleset id.',
    ]);
    expect(validateEdgeArgs({ zoneId: ZONE, records: [] })).toEqual([
      "`records` is empty: give at least one hostname and the target it points at.",
    ]);
  });
});
