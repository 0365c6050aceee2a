// Placeholder Monkeytown API: the smallest server the API image and its probes need.
// GET /health (liveness), /ready (readiness; 503 while shutting down), /metrics (Prometheus text),
// /api/v1/status and /api/v1/version; everything else is a JSON 404. Stops cleanly on SIGTERM.
"use strict";
const http = require("node:http");

const started = Date.now();
const counts = new Map();
let shuttingDown = false;

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
    "# HELP http_requests_total HTTP requests served, by route and status.",
    "# TYPE http_requests_total counter",
  ];
  for (const [key, n] of counts) {
    const [route, status] = key.split(" ");
    lines.push(`http_requests_total{route="${route}",status="${status}"} ${n}`);
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

const routes = {
  "/health": () => [200, { status: "healthy" }],
  "/ready": () => (shuttingDown ? [503, { status: "shutting down" }] : [200, { status: "ready" }]),
  "/metrics": () => [200, metrics(), "text/plain; version=0.0.4; charset=utf-8"],
  "/api/v1/status": () => [200, { status: "ok", uptimeSeconds: Math.round((Date.now() - started) / 1000) }],
  "/api/v1/version": () => [200, { name: "monkeytown-api", version: process.env.APP_VERSION || "dev" }],
};

const server = http.createServer((req, res) => {
  const path = new URL(req.url || "/", "http://localhost").pathname;
  const route = routes[path];
  let reply;
  if (req.method !== "GET" && req.method !== "HEAD") reply = [405, { error: "method not allowed" }];
  else if (route) reply = route();
  else reply = [404, { error: "not found", path }];
  const key = `${route ? path : "unmatched"} ${reply[0]}`;
  counts.set(key, (counts.get(key) || 0) + 1);
  send(res, ...reply);
});

server.keepAliveTimeout = 65_000;
const port = Number(process.env.PORT || 3000);
server.listen(port, process.env.HOST || "0.0.0.0", () => {
  console.log(JSON.stringify({ msg: "listening", port }));
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(JSON.stringify({ msg: "shutting down", signal }));
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
