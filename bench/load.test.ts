import * as http from "http";
import type { AddressInfo } from "net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTargets, inRange, quantile, startLoad } from "./load";

/** A loopback server: /ok answers 200 JSON, /busy 503, /hang never, /other 200 with another body. */
let server: http.Server;
let base = "";
let connections = 0;
const hanging: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/ok") return res.end('{"status":"ready"}');
    if (req.url === "/other") return res.end('{"status":"booting"}');
    if (req.url === "/busy") {
      res.statusCode = 503;
      return res.end();
    }
    hanging.push(res);
    return undefined;
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe("startLoad", () => {
  it("sends exactly maxRequests at the rate, each on a new connection, and stops by itself", async () => {
    const before = connections;
    const t0 = Date.now();
    const r = await startLoad({
      targets: [{ name: "ok", url: `${base}/ok`, expectBody: '"ready"' }],
      ratePerSecond: 100,
      maxRequests: 40,
      maxSeconds: 30,
    }).done;
    expect(r).toMatchObject({ sent: 40, ok: 40, failed: 0, stoppedBy: "count" });
    expect(connections - before).toBe(40);
    // 40 requests at 100/s take about 0.4 s, not less (the rate holds).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(r.latencyMs.p99).toBeGreaterThan(0);
  });

  it("stops at maxSeconds when the count is not reached", async () => {
    const r = await startLoad({
      targets: [{ name: "ok", url: `${base}/ok` }],
      ratePerSecond: 20,
      maxRequests: 1_000,
      maxSeconds: 0.5,
    }).done;
    expect(r.stoppedBy).toBe("time");
    expect(r.sent).toBeGreaterThanOrEqual(9);
    expect(r.sent).toBeLessThanOrEqual(11);
  });

  it("counts every kind of failure by its reason, round-robin over the targets", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await startLoad({
      targets: [
        { name: "ok", url: `${base}/ok` },
        { name: "busy", url: `${base}/busy` },
        { name: "refused", url: `http://127.0.0.1:${closedPort}/` },
        { name: "hang", url: `${base}/hang` },
        { name: "wrong", url: `${base}/other`, expectBody: '"ready"' },
      ],
      ratePerSecond: 50,
      maxRequests: 10,
      maxSeconds: 10,
      timeoutMs: 300,
    }).done;
    expect(r).toMatchObject({ sent: 10, ok: 2, failed: 8 });
    expect(r.failuresByReason).toEqual({
      "status 503": 2,
      ECONNREFUSED: 2,
      timeout: 2,
      body: 2,
    });
    expect(r.firstFailures[0]).toMatchObject({ target: "busy", reason: "status 503" });
  });

  it("stop() ends a run early and still reports", async () => {
    const run = startLoad({
      targets: [{ name: "ok", url: `${base}/ok` }],
      ratePerSecond: 50,
      maxRequests: 10_000,
      maxSeconds: 60,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const r = await run.stop();
    expect(r.stoppedBy).toBe("stopped");
    expect(r.sent).toBeGreaterThan(3);
    expect(r.sent).toBeLessThan(30);
    expect(r.ok).toBe(r.sent);
  });
});

describe("targets", () => {
  it("only loopback and the ranges the run owns, by address", () => {
    expect(() => checkTargets([{ name: "a", url: "http://127.0.0.1:8080/" }], [])).not.toThrow();
    expect(() => checkTargets([{ name: "svc", url: "http://10.96.4.2/ready" }], [])).toThrow(
      "load: svc (10.96.4.2) is neither loopback nor in the ranges this run owns (none)",
    );
    expect(() =>
      checkTargets([{ name: "svc", url: "http://10.96.4.2/ready" }], ["10.96.0.0/12"]),
    ).not.toThrow();
    expect(() =>
      checkTargets([{ name: "x", url: "http://10.112.0.1/" }], ["10.96.0.0/12"]),
    ).toThrow("neither loopback nor in the ranges");
    expect(() => checkTargets([{ name: "n", url: "http://example.com/" }], [])).toThrow(
      "must be an IPv4 address, not a name",
    );
    expect(() => checkTargets([{ name: "s", url: "https://127.0.0.1/" }], [])).toThrow(
      "is not an http URL",
    );
    expect(() =>
      startLoad({
        targets: [{ name: "far", url: "http://192.0.2.1/" }],
        ratePerSecond: 1,
        maxRequests: 1,
        maxSeconds: 1,
      }),
    ).toThrow("neither loopback");
  });

  it("inRange and quantile", () => {
    expect(inRange("10.244.0.7", "10.244.0.0/16")).toBe(true);
    expect(inRange("10.245.0.7", "10.244.0.0/16")).toBe(false);
    expect(inRange("10.111.255.255", "10.96.0.0/12")).toBe(true);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([], 0.99)).toBe(0);
  });
});
