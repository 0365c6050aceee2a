// Placeholder Monkeytown API: the smallest server the API image and its probes need.
// GET /health (liveness), /ready (readiness; 503 while shutting down), /metrics (Prometheus text),
// /api/v1/status and /api/v1/version; everything else is a JSON 404. /ws is a WebSocket (./ws.js)
// that echoes every message back, text as text and binary as binary.
// SIGTERM (or SIGINT) starts a graceful shutdown, made for rolling updates without failed requests:
//   1. at once /ready answers 503 and every response carries `Connection: close`, while everything
//      else is served as before, for SHUTDOWN_DELAY_SECONDS (default 0; the image sets 5): the time
//      Kubernetes needs to take the pod out of its Service's endpoints;
//   2. then it stops accepting connections, closes idle keep-alive connections, lets in-flight
//      requests finish and closes every WebSocket with a close frame (1001 "going away"; clients
//      reconnect to another pod), and exits 0 once the last connection is gone;
//   3. whatever is still open SHUTDOWN_TIMEOUT_SECONDS (default 20) later is dropped and it exits.
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
const { CLOSE, acceptUpgrade, handshakeProblem, rejectUpgrade } = require("./ws");

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
/** Open WebSockets, closed with a close frame when the server drains. */
const sockets = new Set();

/** A duration in seconds from the environment (non-negative), or the default. */
function envSeconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (Number.isFinite(value) && value >= 0) return value;
  log("warn", `${name} is not a number of seconds: using ${fallback}`, { value: raw });
  return fallback;
}

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

function send(res, status, body, type = "application/json", headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...headers,
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
      lines.push(
        `http_request_duration_seconds_bucket{status_code="${code}",le="${le}"} ${h.buckets[i]}`,
      );
    });
    lines.push(`http_request_duration_seconds_bucket{status_code="${code}",le="+Inf"} ${h.count}`);
    lines.push(`http_request_duration_seconds_sum{status_code="${code}"} ${h.sum.toFixed(6)}`);
    lines.push(`http_request_duration_seconds_count{status_code="${code}"} ${h.count}`);
  }
  lines.push(
    "# HELP websocket_connections Open WebSocket connections.",
    "# TYPE websocket_connections gauge",
    `websocket_connections ${sockets.size}`,
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
const ready = () =>
  shuttingDown ? [503, { status: "shutting down" }] : [200, { status: "ready" }];
const routes = {
  "/health": health,
  "/ready": ready,
  [`${basePath}/health`]: health,
  [`${basePath}/ready`]: ready,
  "/metrics": () => [200, metrics(), "text/plain; version=0.0.4; charset=utf-8"],
  "/api/v1/status": () => [
    200,
    { status: "ok", uptimeSeconds: Math.round((Date.now() - started) / 1000) },
  ],
  // A plain GET of the WebSocket endpoint: it only speaks WebSocket.
  "/ws": () => [
    426,
    { error: "upgrade required: /ws is a WebSocket" },
    "application/json",
    { Upgrade: "websocket" },
  ],
  "/api/v1/version": () => [
    200,
    { name: "monkeytown-api", version: process.env.APP_VERSION || "dev" },
  ],
};

// Probes and scrapes arrive every few seconds: logged at debug, so info shows real traffic.
const quiet = new Set(["/health", "/ready", `${basePath}/health`, `${basePath}/ready`, "/metrics"]);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One access-log line for a request (or WebSocket upgrade) answered with `status`. */
function logAccess(req, path, status, seconds) {
  const given = req.headers["x-request-id"];
  const requestId =
    typeof given === "string" && REQUEST_ID.test(given) ? given : crypto.randomUUID();
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
}

const since = (start) => Number(process.hrtime.bigint() - start) / 1e9;

const server = http.createServer((req, res) => {
  const start = process.hrtime.bigint();
  const path = new URL(req.url || "/", "http://localhost").pathname;
  const route = routes[path];
  let reply;
  if (req.method !== "GET" && req.method !== "HEAD") reply = [405, { error: "method not allowed" }];
  else if (route) reply = route();
  else reply = [404, { error: "not found", path }];
  // Shutting down: the client reconnects for its next request, through the Service, to a pod
  // that is staying.
  if (shuttingDown) res.setHeader("Connection", "close");
  send(res, ...reply);
  const seconds = since(start);
  if (path !== "/metrics") observe(reply[0], seconds);
  logAccess(req, path, reply[0], seconds);
});

// WebSocket at /ws: every message is echoed back as it came. Until the server drains, upgrades
// are accepted even while shutting down (the pod still gets traffic until its endpoint is gone).
let draining = false;
const WS_PING_INTERVAL_SECONDS = envSeconds("WS_PING_INTERVAL_SECONDS", 30);
server.on("upgrade", (req, socket, head) => {
  const start = process.hrtime.bigint();
  const path = new URL(req.url || "/", "http://localhost").pathname;
  const problem =
    path !== "/ws"
      ? [404, "not found", {}]
      : draining
        ? [503, "shutting down", {}]
        : handshakeProblem(req);
  if (problem) {
    rejectUpgrade(socket, ...problem);
    logAccess(req, path, problem[0], since(start));
    return;
  }
  const ws = acceptUpgrade(req, socket, head, {
    maxMessageBytes: 64 * 1024,
    pingIntervalMs: WS_PING_INTERVAL_SECONDS * 1000,
  });
  sockets.add(ws);
  logAccess(req, path, 101, since(start));
  ws.on("message", (data) => ws.send(data));
  ws.on("close", (code, reason) => {
    sockets.delete(ws);
    log("debug", "websocket closed", { path, code, reason, seconds: since(start) });
  });
});

server.keepAliveTimeout = 65_000;
const port = Number(process.env.PORT || 3000);
server.listen(port, process.env.HOST || "0.0.0.0", () => {
  const logLevel = Object.keys(LEVELS).find((l) => LEVELS[l] === minLevel);
  log("info", "listening", { port, basePath, logLevel });
});

const SHUTDOWN_DELAY_SECONDS = envSeconds("SHUTDOWN_DELAY_SECONDS", 0);
const SHUTDOWN_TIMEOUT_SECONDS = envSeconds("SHUTDOWN_TIMEOUT_SECONDS", 20);

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true; // /ready answers 503 from now on
  log("info", "shutting down", { signal });
  setTimeout(drain, SHUTDOWN_DELAY_SECONDS * 1000);
}

function drain() {
  draining = true;
  log("info", "draining", {
    delaySeconds: SHUTDOWN_DELAY_SECONDS,
    timeoutSeconds: SHUTDOWN_TIMEOUT_SECONDS,
    websockets: sockets.size,
  });
  // Stop accepting; the callback runs once every connection, WebSockets included, has ended.
  server.close(() => {
    log("info", "stopped", {});
    process.exit(0);
  });
  server.closeIdleConnections();
  for (const ws of sockets) ws.close(CLOSE.GOING_AWAY, "server shutting down");
  setTimeout(() => {
    log("warn", "shutdown timed out: dropping the connections still open", {
      websockets: sockets.size,
    });
    server.closeAllConnections();
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }, SHUTDOWN_TIMEOUT_SECONDS * 1000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
