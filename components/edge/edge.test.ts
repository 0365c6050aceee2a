import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Harness, installMocks } from "../../test/harness";

const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
/** Cloudflare's managed WAF ruleset id, spelled out so a changed constant fails this test. */
const CLOUDFLARE_MANAGED = "efb7b8c949ac4650a09736fc376e9aee";

describe("Edge component", () => {
  let h: Harness;
  let Edge: typeof import("./index").Edge;

  beforeAll(async () => {
    h = await installMocks();
    ({ Edge } = await import("./index"));
    new Edge("prod", {
      zoneId: ZONE,
      records: [
        { hostname: "monkeytown.example", target: pulumi.output("lb.example.net") },
        { hostname: "www.monkeytown.example", target: "203.0.113.10", type: "A" },
      ],
      apiRateLimitRequests: 200,
      waf: true,
    });
    new Edge("staging", {
      zoneId: ZONE,
      records: [{ hostname: "staging.monkeytown.example", target: "lb.example.net" }],
    });
    await h.settle();
  });

  it("creates one proxied record per hostname", () => {
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

  it("sets SSL strict, HTTPS always and TLS 1.2 at least", () => {
    const value = (n: string) => {
      const { inputs } = h.one(SETTING, n);
      return [inputs.settingId, inputs.value, inputs.zoneId];
    };
    expect(value("prod-ssl")).toEqual(["ssl", "strict", ZONE]);
    expect(value("prod-always-https")).toEqual(["always_use_https", "on", ZONE]);
    expect(value("prod-min-tls")).toEqual(["min_tls_version", "1.2", ZONE]);
  });

  it("puts the cache rules in the cache-settings phase, scoped to the environment's hosts", () => {
    const { inputs } = h.one(RULESET, "prod-cache-rules");
    expect(inputs).toMatchObject({
      zoneId: ZONE,
      kind: "zone",
      phase: "http_request_cache_settings",
    });
    expect(inputs.rules).toHaveLength(2);
    expect(inputs.rules[0].expression).toContain(
      'http.host in {"monkeytown.example" "www.monkeytown.example"}',
    );
    expect(inputs.rules[0].actionParameters.edgeTtl).toEqual({
      mode: "override_origin",
      default: 31_536_000,
    });
    expect(inputs.rules[1].actionParameters).toEqual({ cache: false });
    const staging = h.one(RULESET, "staging-cache-rules").inputs;
    expect(staging.rules[0].expression).toContain('http.host in {"staging.monkeytown.example"}');
    expect(staging.rules[0].expression).not.toContain('"monkeytown.example"');
  });

  it("rate-limits /api with the overridden and the default limits", () => {
    const prod = h.one(RULESET, "prod-rate-limit").inputs;
    expect(prod.phase).toBe("http_ratelimit");
    expect(prod.rules[0].ratelimit).toEqual({
      characteristics: ["ip.src", "cf.colo.id"],
      period: 60,
      requestsPerPeriod: 200,
      mitigationTimeout: 60,
    });
    expect(h.one(RULESET, "staging-rate-limit").inputs.rules[0].ratelimit.requestsPerPeriod).toBe(
      100,
    );
  });

  it("runs the managed WAF only where waf is on", () => {
    const waf = h.one(RULESET, "prod-waf").inputs;
    expect(waf.phase).toBe("http_request_firewall_managed");
    expect(waf.rules).toEqual([
      expect.objectContaining({ action: "execute", actionParameters: { id: CLOUDFLARE_MANAGED } }),
    ]);
    expect(h.find(RULESET, "staging-waf")).toBeUndefined();
    const stagingPhases = h
      .byType(RULESET)
      .filter((r) => r.name.startsWith("staging-"))
      .map((r) => r.inputs.phase);
    expect(stagingPhases).not.toContain("http_request_firewall_managed");
  });

  it("registers nothing when an argument is wrong", async () => {
    const before = h.resources.length;
    expect(
      () => new Edge("bad", { zoneId: ZONE, records: [{ hostname: "bad host", target: "x" }] }),
    ).toThrow(
      'Invalid arguments for monkeytown:edge:Edge "bad" (1 problem; nothing was registered):\n  - `records[0]`.hostname ("bad host") is not a lower-case DNS name',
    );
    await h.settle();
    expect(h.resources.slice(before)).toEqual([]);
  });
});
