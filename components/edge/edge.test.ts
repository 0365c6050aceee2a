import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Harness, installMocks } from "../../test/harness";

const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
/** Cloudflare's managed WAF ruleset id, spelled out so a changed constant fails this test. */
const CLOUDFLARE_MANAGED = "efb7b8c949ac4650a09736fc376e9aee";
/** The infrastructure seed's rate limits on the API (003, "Rate Limiting"), per minute. */
const SEED = { perIp: 100, global: 1000, perUser: 500 };

describe("Edge component", () => {
  let h: Harness;
  let Edge: typeof import("./index").Edge;
  let prod: import("./index").Edge;

  beforeAll(async () => {
    h = await installMocks();
    ({ Edge } = await import("./index"));
    // Production owns the zone; staging shares it and owns only its record.
    prod = new Edge("prod", {
      zoneId: ZONE,
      records: [
        { hostname: "monkeytown.example", target: pulumi.output("lb.example.net") },
        { hostname: "www.monkeytown.example", target: "203.0.113.10", type: "A" },
      ],
      zone: {
        plan: "pro",
        hostnames: ["monkeytown.example", "www.monkeytown.example", "staging.monkeytown.example"],
        apiRateLimitRequests: 200,
        waf: true,
      },
    });
    new Edge("staging", {
      zoneId: ZONE,
      records: [{ hostname: "staging.monkeytown.example", target: "lb.example.net" }],
    });
    await h.settle();
  });

  it("creates one proxied record per hostname, in every environment", () => {
    expect(h.one(DNS, "prod-dns-monkeytown-example").inputs).toMatchObject({
      zoneId: ZONE,
      name: "monkeytown.example",
      type: "CNAME",
      content: "lb.example.net",
      proxied: true,
      ttl: 1,
    });
    expect(h.one(DNS, "prod-dns-www-monkeytown-example").inputs).toMatchObject({
      type: "A",
      content: "203.0.113.10",
      proxied: true,
    });
    expect(
      h
        .byType(DNS)
        .filter((r) => r.name.startsWith("staging-"))
        .map((r) => r.name),
    ).toEqual(["staging-dns-staging-monkeytown-example"]);
  });

  it("an Edge without `zone` writes nothing zone-wide: one setting and one ruleset per phase in the zone", () => {
    const staging = h.resources.filter((r) => r.name.startsWith("staging-") && r.custom);
    expect(staging.map((r) => r.type)).toEqual([DNS]);
    const phases = h.byType(RULESET).map((r) => `${r.inputs.zoneId} ${r.inputs.phase}`);
    expect(new Set(phases).size).toBe(phases.length);
    const settings = h.byType(SETTING).map((r) => `${r.inputs.zoneId} ${r.inputs.settingId}`);
    expect(new Set(settings).size).toBe(settings.length);
  });

  it("sets SSL strict, HTTPS always and TLS 1.2 at least", () => {
    const value = (n: string) => {
      const { inputs } = h.one(SETTING, n);
      return [inputs.settingId, inputs.value, inputs.zoneId];
    };
    expect(value("prod-ssl")).toEqual(["ssl", "strict", ZONE]);
    expect(value("prod-always-https")).toEqual(["always_use_https", "on", ZONE]);
    expect(value("prod-min-tls")).toEqual(["min_tls_version", "1.2", ZONE]);
  });

  it("scopes the zone's cache rules to every hostname it lists, the sharing environment's too", () => {
    const { inputs } = h.one(RULESET, "prod-cache-rules");
    expect(inputs).toMatchObject({
      zoneId: ZONE,
      kind: "zone",
      phase: "http_request_cache_settings",
    });
    expect(inputs.rules).toHaveLength(2);
    expect(inputs.rules[0].expression).toContain(
      'http.host in {"monkeytown.example" "www.monkeytown.example" "staging.monkeytown.example"}',
    );
    expect(inputs.rules[0].actionParameters.edgeTtl).toEqual({
      mode: "override_origin",
      default: 31_536_000,
    });
    expect(inputs.rules[1].actionParameters).toEqual({ cache: false });
  });

  it("on Pro, rate-limits /api per IP only; the global and per-user tiers say why not", () => {
    const rl = h.one(RULESET, "prod-rate-limit").inputs;
    expect(rl.phase).toBe("http_ratelimit");
    expect(rl.rules).toHaveLength(1);
    expect(rl.rules[0].ratelimit).toEqual({
      characteristics: ["ip.src", "cf.colo.id"],
      period: 60,
      requestsPerPeriod: 200,
      mitigationTimeout: 60,
    });
    expect(rl.rules[0].expression).toContain('"staging.monkeytown.example"');
    expect(prod.rateLimitTiers.map((t) => [t.tier, t.requests, t.rule !== undefined])).toEqual([
      ["per-ip", 200, true],
      ["global", SEED.global, false],
      ["per-user", SEED.perUser, false],
    ]);
    expect(prod.rateLimitTiers[1].notExpressible).toMatch(/Pro plan counts by client IP only/);
    expect(prod.rateLimitTiers[2].notExpressible).toMatch(
      /header or cookie needs Enterprise with Advanced Rate Limiting/,
    );
  });

  it("runs the managed WAF only where waf is on", () => {
    const waf = h.one(RULESET, "prod-waf").inputs;
    expect(waf.phase).toBe("http_request_firewall_managed");
    expect(waf.rules).toEqual([
      expect.objectContaining({ action: "execute", actionParameters: { id: CLOUDFLARE_MANAGED } }),
    ]);
    expect(h.find(RULESET, "staging-waf")).toBeUndefined();
  });

  it("on Enterprise with Advanced Rate Limiting, all three seed tiers are rules", async () => {
    const ent = new Edge("ent", {
      zoneId: "1".repeat(32),
      records: [{ hostname: "ent.example.com", target: "lb.example.net" }],
      zone: { plan: "enterprise", advancedRateLimiting: true, userKey: { cookie: "mt_session" } },
    });
    await h.settle();
    const rules = h.one(RULESET, "ent-rate-limit").inputs.rules as {
      ref: string;
      expression: string;
      ratelimit: { characteristics: string[]; period: number; requestsPerPeriod: number };
    }[];
    expect(rules.map((r) => [r.ref, r.ratelimit.requestsPerPeriod, r.ratelimit.period])).toEqual([
      ["api_per_ip_rate_limit", SEED.perIp, 60],
      ["api_global_rate_limit", SEED.global, 60],
      ["api_per_user_rate_limit", SEED.perUser, 60],
    ]);
    expect(rules[1].ratelimit.characteristics).toEqual(["cf.colo.id", "http.host"]);
    expect(rules[2].ratelimit.characteristics).toEqual([
      "cf.colo.id",
      'http.request.cookies["mt_session"]',
    ]);
    // Anonymous requests are not one shared "user": only requests carrying the key are counted.
    expect(rules[2].expression).toContain('any(http.request.cookies["mt_session"][*] ne "")');
    expect(ent.rateLimitTiers.every((t) => t.notExpressible === undefined)).toBe(true);
  });

  it("on Free, no rate-limit rule can count per minute, so no ruleset is written", async () => {
    const free = new Edge("free", {
      zoneId: "2".repeat(32),
      records: [{ hostname: "free.example.com", target: "lb.example.net" }],
      zone: { plan: "free" },
    });
    await h.settle();
    expect(h.find(RULESET, "free-rate-limit")).toBeUndefined();
    expect(free.rateLimitTiers[0].notExpressible).toBe(
      "the Free plan counts over 10 s only, not 60 s, and its rate limiting rules cannot test the host",
    );
    expect(h.one(SETTING, "free-ssl").inputs.value).toBe("strict");
  });

  it("registers nothing when an argument is wrong", async () => {
    const before = h.resources.length;
    expect(
      () =>
        new Edge("bad", {
          zoneId: ZONE,
          records: [{ hostname: "bad.example.com", target: "x" }],
          zone: { plan: "free", waf: true, hostnames: ["other.example.com"] },
        }),
    ).toThrow(
      'Invalid arguments for monkeytown:edge:Edge "bad" (2 problems; nothing was registered):\n' +
        '  - `zone.hostnames` leaves out "bad.example.com", a record of this Edge: its traffic would get none of the zone\'s rules; add it.\n' +
        "  - `zone.waf` is true on the Free plan, which cannot deploy Cloudflare's managed WAF rulesets (Pro and above): turn waf off or raise the plan.",
    );
    await h.settle();
    expect(h.resources.slice(before)).toEqual([]);
  });
});
