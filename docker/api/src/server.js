// Placeholder Monkeytown API: the smallest server the API image and its probes need.
// GET /health (liveness), /ready (readiness; 503 while shutting down), /metrics (Prometheus text),
// /api/v1/status and /api/v1/version; everything else is a JSON 404. Stops cleanly on SIGTERM.
// /health and /ready are also answered under API_BASE_PATH (default /api/v1), the only prefix the
// Ingress and the edge route to the API, so a deploy can check the API from outside the cluster.
// /metrics exports the request-duration histogram the Alerts component's rules read
// (http_request_duration_seconds{status_code=...}).
// Logs follow the architecture seed's standard (§7.3): one JSON object per line on stdout with
// level, timestamp, message and context; levels debug < info < warn < error, the lowest written set
// by LOG_LEVEL (default info). A request is logged by method, path (never its query string),
// status, duration and request id; no header but User-Agent is ever logged.
"use strict";
const http = require("node:http");
const crypto = require("node:crypto");

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };
const minLevel = LEVELS[(process.env.LOG_LEVEL || "info").toLowerCase()] ?? LEVELS.info;

function log(level, message, context = {}) {
  if (LEVELS[level] < minLevel) return;
  const line = { level, timestamp: new Date().toISOString(), message, context };
  process.stdout.write(JSON.stringify(line) + "\n");
}

const started = Date.now();
const basePath = (process.env.API_BASE_PATH || "/api/v1").replace(/\/$/, "");
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// status code -> { buckets: number[], sum, count }
const durations = new Map();
let shuttingDown = false;

function observe(status, seconds) {
  const key = String(status);
  let h = durations.get(key);
  if (!h) {
    h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    durations.set(key, h);
  }
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) h.buckets[i] += 1;
  });
  h.sum += seconds;
  h.count += 1;
}

function send(res, status, body, type = "application/json") {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}

function metrics() {
  const lines = [
    "# HELP http_request_duration_seconds HTTP request duration, by status code.",
    "# TYPE http_request_duration_seconds histogram",
  ];
  for (const [code, h] of durations) {
    BUCKETS.forEach((le, i) => {
      lines.push(`http_request_duration_seconds_bucket{status_code="${code}",le="${le}"} ${h.buckets[i]}`);
    });
    lines.push(`http_request_duration_seconds_bucket{status_code="${code}",le="+Inf"} ${h.count}`);
    lines.push(`http_request_duration_seconds_sum{status_code="${code}"} ${h.sum.toFixed(6)}`);
    lines.push(`http_request_duration_seconds_count{status_code="${code}"} ${h.count}`);
  }
  lines.push(
    "# HELP process_uptime_seconds Seconds since the process started.",
    "# TYPE process_uptime_seconds gauge",
    `process_uptime_seconds ${((Date.now() - started) / 1000).toFixed(3)}`,
    "# HELP process_resident_memory_bytes Resident memory size in bytes.",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${process.memoryUsage().rss}`,
  );
  return lines.join("\n") + "\n";
}

const health = () => [200, { status: "healthy" }];
const ready = () => (shuttingDown ? [503, { status: "shutting down" }] : [200, { status: "ready" }]);
const routes = {
  "/health": health,
  "/ready": ready,
  [`${basePath}/health`]: health,
  [`${basePath}/ready`]: ready,
  "/metrics": () => [200, metrics(), "text/plain; version=0.0.4; charset=utf-8"],
  "/api/v1/status": () => [200, { status: "ok", uptimeSeconds: Math.round((Date.now() - started) / 1000) }],
  "/api/v1/version": () => [200, { name: "monkeytown-api", version: process.env.APP_VERSION || "dev" }],
};

// Probes and scrapes arrive every few seconds: logged at debug, so info shows real traffic.
const quiet = new Set(["/health", "/ready", `${basePath}/health`, `${basePath}/ready`, "/metrics"]);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const server = http.createServer((req, res) => {
  const start = process.hrtime.bigint();
  const path = new URL(req.url || "/", "http://localhost").pathname;
  const route = routes[path];
  const given = req.headers["x-request-id"];
  const requestId =
    typeof given === "string" && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  let reply;
  if (req.method !== "GET" && req.method !== "HEAD") reply = [405, { error: "method not allowed" }];
  else if (route) reply = route();
  else reply = [404, { error: "not found", path }];
  send(res, ...reply);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (path !== "/metrics") observe(reply[0], seconds);
  const status = reply[0];
  const level =
    status >= 500 ? "error" : status >= 400 ? "warn" : quiet.has(path) ? "debug" : "info";
  log(level, `${req.method} ${path} ${status}`, {
    log: "access",
    requestId,
    method: req.method,
    path,
    status,
    durationMs: Math.round(seconds * 1e6) / 1e3,
    remoteAddress: req.socket.remoteAddress,
    userAgent: req.headers["user-agent"] || "",
  });
});

server.keepAliveTimeout = 65_000;
const port = Number(process.env.PORT || 3000);
server.listen(port, process.env.HOST || "0.0.0.0", () => {
  const logLevel = Object.keys(LEVELS).find((l) => LEVELS[l] === minLevel);
  log("info", "listening", { port, basePath, logLevel });
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log("info", "shutting down", { signal });
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
