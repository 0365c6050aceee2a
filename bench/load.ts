/**
 * A bounded HTTP load generator for the zero-downtime scenarios (bench/zero-downtime.ts) and the
 * live rolling-update test (test/cluster/real-pods.test.ts).
 *
 * Constant arrival rate: request i is sent at start + i / rate whether or not earlier ones have
 * answered (a slow server does not slow the generator down and hide its failures), each on a new
 * TCP connection, so that every request goes through the Service's current endpoints (kube-proxy
 * picks a pod per connection; a reused connection would stay on its pod). It stops by itself at
 * `maxRequests` or `maxSeconds`, whichever comes first, or when stopped; a request still open at
 * the end gets `timeoutMs` to finish. Targets must be on loopback or in the address ranges the
 * caller owns (the local cluster's Service and pod ranges): anything else is refused before a
 * request is sent.
 */
import * as http from "http";
import * as net from "net";

/** IPv4 ranges a load target may be in, as CIDR strings (`10.96.0.0/12`). */
export type OwnedRanges = readonly string[];

export interface LoadTarget {
  /** Name in the report (`web`, `api`). */
  readonly name: string;
  /** http:// URL on an IPv4 address; its path is what is requested. */
  readonly url: string;
  /** What a successful answer's body must contain (e.g. a JSON field). */
  readonly expectBody?: string;
}

export interface LoadOptions {
  /** Requests go round-robin over these. */
  readonly targets: readonly LoadTarget[];
  /** Requests per second, all targets together. */
  readonly ratePerSecond: number;
  /** At most this many requests. */
  readonly maxRequests: number;
  /** At most this long, seconds. */
  readonly maxSeconds: number;
  /** A request without a complete answer after this fails. @default 2000 */
  readonly timeoutMs?: number;
  /** Ranges beside loopback the targets may be in. @default [] */
  readonly allowedRanges?: OwnedRanges;
}

/** One failed request: when (ms after start), which target, why. */
export interface LoadFailure {
  readonly atMs: number;
  readonly target: string;
  readonly reason: string;
}

export interface LoadReport {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Failures by reason (`status 502`, `ECONNREFUSED`, `timeout`, `body`). */
  readonly failuresByReason: Readonly<Record<string, number>>;
  /** The first few failures, in order. */
  readonly firstFailures: readonly LoadFailure[];
  /** Latency of every answered request, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Wall time from the first request to the last answer, s. */
  readonly seconds: number;
  /** Why it stopped: `count`, `time` or `stopped`. */
  readonly stoppedBy: "count" | "time" | "stopped";
}

export interface LoadRun {
  /** Resolves when the run has ended by itself or by `stop()`. */
  readonly done: Promise<LoadReport>;
  /** Ends the run now (open requests still get their timeout); resolves with the report. */
  stop(): Promise<LoadReport>;
  /** Requests sent and failed so far. */
  progress(): { sent: number; failed: number };
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Whether `ip` is in `cidr` (IPv4 only). */
export function inRange(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (!net.isIPv4(ip) || !net.isIPv4(base) || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

/** Throws unless every target is an http URL on loopback or in one of `ranges`. */
export function checkTargets(targets: readonly LoadTarget[], ranges: OwnedRanges): void {
  if (targets.length === 0) throw new Error("load: no targets");
  for (const t of targets) {
    const url = new URL(t.url);
    if (url.protocol !== "http:") throw new Error(`load: ${t.name} (${t.url}) is not an http URL`);
    const host = url.hostname;
    if (!net.isIPv4(host)) {
      throw new Error(`load: ${t.name} (${t.url}) must be an IPv4 address, not a name`);
    }
    if (!inRange(host, "127.0.0.0/8") && !ranges.some((r) => inRange(host, r))) {
      throw new Error(
        `load: ${t.name} (${host}) is neither loopback nor in the ranges this run owns (${ranges.join(", ") || "none"})`,
      );
    }
  }
}

/** The q-quantile (0..1) of ascending `sorted`, nearest rank; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** Starts a bounded run; see the module comment. */
export function startLoad(options: LoadOptions): LoadRun {
  const { targets, ratePerSecond, maxRequests, maxSeconds } = options;
  const timeoutMs = options.timeoutMs ?? 2000;
  checkTargets(targets, options.allowedRanges ?? []);
  if (!(ratePerSecond > 0) || !(maxRequests > 0) || !(maxSeconds > 0)) {
    throw new Error("load: ratePerSecond, maxRequests and maxSeconds must be positive");
  }
  // A new connection per request: no keep-alive pool.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const start = performance.now();
  const latencies: number[] = [];
  const byReason: Record<string, number> = {};
  const firstFailures: LoadFailure[] = [];
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let open = 0;
  let lastAnswer = start;
  let stoppedBy: LoadReport["stoppedBy"] | undefined;
  let finish!: (r: LoadReport) => void;
  const done = new Promise<LoadReport>((resolve) => (finish = resolve));

  const fail = (target: string, reason: string) => {
    failed++;
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    if (firstFailures.length < 20) {
      firstFailures.push({ atMs: Math.round(performance.now() - start), target, reason });
    }
  };

  const report = (): LoadReport => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      sent,
      ok,
      failed,
      failuresByReason: { ...byReason },
      firstFailures: [...firstFailures],
      latencyMs: {
        p50: Math.round(quantile(sorted, 0.5) * 10) / 10,
        p99: Math.round(quantile(sorted, 0.99) * 10) / 10,
        max: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
      },
      seconds: Math.round((lastAnswer - start) / 10) / 100,
      stoppedBy: stoppedBy ?? "stopped",
    };
  };

  const maybeFinish = () => {
    if (stoppedBy !== undefined && open === 0) {
      agent.destroy();
      finish(report());
    }
  };

  const send = (target: LoadTarget) => {
    sent++;
    open++;
    const t0 = performance.now();
    let settled = false;
    const settle = (reason?: string) => {
      if (settled) return;
      settled = true;
      open--;
      lastAnswer = performance.now();
      if (reason === undefined) {
        ok++;
        latencies.push(lastAnswer - t0);
      } else {
        fail(target.name, reason);
      }
      maybeFinish();
    };
    const req = http.get(target.url, { agent, headers: { "user-agent": "monkeytown-load" } });
    req.setTimeout(timeoutMs, () => {
      settle("timeout");
      req.destroy();
    });
    req.on("error", (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
      res.on("end", () => {
        if (res.statusCode !== 200) return settle(`status ${res.statusCode}`);
        const body = Buffer.concat(chunks).toString("utf8");
        if (target.expectBody !== undefined && !body.includes(target.expectBody)) {
          return settle("body");
        }
        settle();
      });
    });
  };

  const intervalMs = 1000 / ratePerSecond;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = undefined;
    if (stoppedBy !== undefined) return;
    const elapsed = performance.now() - start;
    if (elapsed >= maxSeconds * 1000) stoppedBy = "time";
    // Catch up on every request due by now (timers fire late on a busy machine).
    while (stoppedBy === undefined && sent < Math.floor(elapsed / intervalMs) + 1) {
      send(targets[sent % targets.length]);
      if (sent >= maxRequests) stoppedBy = "count";
    }
    if (stoppedBy !== undefined) return maybeFinish();
    timer = setTimeout(tick, Math.max(1, start + sent * intervalMs - performance.now()));
  };
  tick();

  return {
    done,
    stop() {
      if (stoppedBy === undefined) stoppedBy = "stopped";
      if (timer) clearTimeout(timer);
      maybeFinish();
      return done;
    },
    progress: () => ({ sent, failed }),
  };
}

/** A report as one line: `1,200 sent, 1,200 ok, 0 failed, p99 4.1 ms (max 12.0) in 60.0 s`. */
export function formatLoad(r: LoadReport): string {
  const reasons = Object.entries(r.failuresByReason)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return (
    `${r.sent.toLocaleString("en")} sent, ${r.ok.toLocaleString("en")} ok, ${r.failed} failed` +
    (reasons ? ` (${reasons})` : "") +
    `, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms (max ${r.latencyMs.max}) in ${r.seconds.toFixed(1)} s`
  );
}
