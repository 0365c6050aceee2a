/**
 * Benchmark of the web tier's nginx.conf against a baseline, on loopback, in one run.
 *
 *   npm run bench:nginx            (needs: bash scripts/ci/install-nginx.sh)
 *   npm run bench:nginx -- --duration 5 --rounds 5     (seconds per wrk run, rounds per case)
 *
 * Servers, all Debian's nginx as the same non-root user, on 127.0.0.1, same SPA build:
 *   baseline     Debian's /etc/nginx/nginx.conf + sites-available/default, with the gzip lines its
 *                comments suggest switched on (gzip_vary, gzip_proxied, gzip_comp_level 6, ...)
 *   ours         renderNginxConfig() (components/web/nginx.ts), no pre-compressed files present
 *   ours+gz      the same config, with .gz files next to JS and CSS (gzip_static)
 *   ours+gz+br   plus Debian's Brotli static module and .br files (brotli_static), if installed
 * For each: requests/s (wrk, keep-alive, median of interleaved rounds, client sends "Accept-Encoding: gzip, deflate, br" like a
 * browser) and bytes on the wire for one response (status line + headers + body) for index.html,
 * the ~200 KB JS bundle, the CSS and /health; then the reduction against the uncompressed response.
 * Prints its figures; it asserts nothing. Exits 1 only when it cannot run (no nginx or wrk).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { renderNginxConfig } from "../components/web/nginx";
import { ALL_TEXT_EXTENSIONS, buildSpaFixture } from "../test/fixtures/spa/build";
import {
  BROTLI_STATIC_MODULE,
  findNginx,
  makeTempDir,
  makeWritableDir,
  startNginx,
  type RunningNginx,
} from "../test/fixtures/spa/serve";

const BROWSER_ENCODING = "gzip, deflate, br";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * Debian's own nginx.conf and default site, changed only where a non-root run on a loopback port
 * must: no `user`, pid, logs and temp folders in a writable folder, the site's port and root; plus the gzip lines
 * its comments suggest, uncommented.
 */
export function debianBaselineConfig(port: number, root: string, runDir: string): string {
  const site = readFileSync("/etc/nginx/sites-available/default", "utf8")
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/listen 80 default_server;/, `listen 127.0.0.1:${port} default_server;`)
    .replace(/\n\s*listen \[::\]:80 default_server;/, "")
    .replace(/root \/var\/www\/html;/, `root ${root};`);
  return readFileSync("/etc/nginx/nginx.conf", "utf8")
    .replace(/^user .*;\n/m, "")
    .replace(/^pid .*;/m, `pid ${runDir}/nginx.pid;`)
    .replace(/access_log \/var\/log\/nginx\/access\.log;/, `access_log ${runDir}/access.log;`)
    .replace(/error_log \/var\/log\/nginx\/error\.log;/, `error_log ${runDir}/error.log;`)
    .replace(/^(\s*)# (gzip_\w+ [^\n]*;)$/gm, "$1$2")
    .replace(/^\s*include \/etc\/nginx\/sites-enabled\/\*;$/m, site)
    .replace(
      /^http \{$/m,
      `http {\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `\t${t}_temp_path ${runDir}/${t};`).join("\n")}`,
    );
}

/** One GET with Connection: close; every byte received counts (status line, headers, body). */
function wireBytes(
  port: number,
  path: string,
  encoding?: string,
): Promise<{ bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let bytes = 0;
    let head = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error(`GET ${path} timed out`)));
    socket.on("connect", () => {
      const ae = encoding ? `Accept-Encoding: ${encoding}\r\n` : "";
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n${ae}Connection: close\r\n\r\n`,
      );
    });
    socket.on("data", (d: Buffer) => {
      if (head.length < 16) head += d.toString("latin1", 0, 16);
      bytes += d.length;
    });
    socket.on("end", () => resolve({ bytes, status: Number(head.split(" ")[1]) }));
    socket.on("error", reject);
  });
}

function wrk(url: string, seconds: number): { rps: number } {
  const run = spawnSync(
    "wrk",
    ["-t2", "-c32", `-d${seconds}s`, "-H", `Accept-Encoding: ${BROWSER_ENCODING}`, url],
    { encoding: "utf8", timeout: (seconds + 20) * 1000 },
  );
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  if (run.status !== 0 || !rps) throw new Error(`wrk failed on ${url}: ${run.stderr}${run.stdout}`);
  return { rps: Number(rps[1]) };
}

async function main(): Promise<void> {
  const nginx = findNginx();
  const hasWrk = spawnSync("sh", ["-c", "command -v wrk"]).status === 0;
  if (!nginx || !hasWrk) {
    console.error("nginx-bench needs nginx and wrk: run bash scripts/ci/install-nginx.sh");
    process.exit(1);
  }
  const seconds = arg("duration", 2);
  const rounds = arg("rounds", 3);
  const brotli = existsSync(BROTLI_STATIC_MODULE);
  const base = makeTempDir("nginx-bench-");
  const plain = buildSpaFixture(join(base, "plain"));
  const pre = buildSpaFixture(join(base, "pre"), {
    gzip: true,
    brotli,
    precompress: ALL_TEXT_EXTENSIONS,
  });
  const paths: Array<[string, string]> = [
    ["index.html (/)", "/"],
    [`JS ${(plain.sizes[plain.paths.js] / 1024).toFixed(0)} KB`, plain.paths.js],
    [`CSS ${(plain.sizes[plain.paths.css] / 1024).toFixed(0)} KB`, plain.paths.css],
    ["/health", "/health"],
  ];

  const servers: Array<{ name: string; start: () => Promise<RunningNginx> }> = [];
  const start = (name: string, render: (port: number, runDir: string) => string) => {
    servers.push({
      name,
      start: () => {
        const runDir = makeWritableDir(
          join(base, `run-${servers.length}-${name.replace(/\W/g, "")}`),
        );
        return startNginx({
          nginx,
          confDir: base,
          errorLog: join(runDir, "error.log"),
          render: (port) => render(port, runDir),
        });
      },
    });
  };
  const ours =
    (root: string, extra: Parameters<typeof renderNginxConfig>[0] = {}) =>
    (port: number, runDir: string) =>
      renderNginxConfig({
        port,
        listenAddress: "127.0.0.1",
        ipv6: false,
        root,
        runDir,
        accessLog: join(runDir, "access.log"),
        errorLog: join(runDir, "error.log"),
        ...extra,
      });
  start("baseline", (port, runDir) => debianBaselineConfig(port, plain.dir, runDir));
  start("ours", ours(plain.dir));
  start("ours+gz", ours(pre.dir));
  if (brotli)
    start("ours+gz+br", ours(pre.dir, { loadModules: [BROTLI_STATIC_MODULE], brotliStatic: true }));

  console.log(
    `nginx-bench: ${spawnSync(nginx, ["-v"], { encoding: "utf8" }).stderr.trim()}, wrk -t2 -c32 -d${seconds}s, median of ${rounds} rounds, ` +
      `Accept-Encoding "${BROWSER_ENCODING}", ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} CPUs, loopback`,
  );
  if (!brotli) console.log("Brotli static module not installed: ours+gz+br is left out");

  // All servers up at once; each round runs every server in turn on each path, so background load
  // on the machine hits them alike. The figure is the median over the rounds.
  const running: RunningNginx[] = [];
  const results: Array<{
    server: string;
    what: string;
    rps: number;
    bytes: number;
    status: number;
  }> = [];
  const identity: Record<string, number> = {};
  try {
    for (const server of servers) running.push(await server.start());
    for (const [what, path] of paths) {
      identity[what] = (await wireBytes(running[0].port, path)).bytes;
      const samples = servers.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        running.forEach((r, i) => samples[i].push(wrk(r.baseUrl + path, seconds).rps));
      }
      for (const [i, server] of servers.entries()) {
        const wire = await wireBytes(running[i].port, path, BROWSER_ENCODING);
        const sorted = samples[i].sort((a, b) => a - b);
        results.push({
          server: server.name,
          what,
          rps: sorted[Math.floor(sorted.length / 2)],
          bytes: wire.bytes,
          status: wire.status,
        });
      }
    }
  } finally {
    for (const r of running) await r.stop();
  }
  rmSync(base, { recursive: true, force: true });

  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `| ${pad("what", 14)} | ${pad("server", 11)} | status | req/s     | vs baseline | bytes on wire | vs uncompressed |`,
    `|${"-".repeat(16)}|${"-".repeat(13)}|--------|-----------|-------------|---------------|-----------------|`,
  ];
  for (const [what] of paths) {
    const baseline = results.find((r) => r.what === what && r.server === "baseline");
    for (const r of results.filter((x) => x.what === what)) {
      const ratio = baseline ? r.rps / baseline.rps : 1;
      const vsBase =
        ratio >= 2
          ? `x${ratio.toFixed(ratio >= 10 ? 0 : 1)}`
          : `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(0)}%`;
      // /health is not compressible content: its bytes are headers; no reduction to speak of.
      const reduction =
        what === "/health" ? "n/a" : `${((1 - r.bytes / identity[what]) * 100).toFixed(1)}% fewer`;
      lines.push(
        `| ${pad(what, 14)} | ${pad(r.server, 11)} | ${String(r.status).padEnd(6)} | ${r.rps.toFixed(0).padStart(9)} | ${pad(vsBase, 11)} | ${String(r.bytes).padStart(13)} | ${pad(reduction, 15)} |`,
      );
    }
  }
  console.log(
    `\nuncompressed bytes on wire (baseline, no Accept-Encoding; its /health is Debian's 404 page): ${paths.map(([w]) => `${w}: ${identity[w]}`).join(", ")}\n`,
  );
  console.log(lines.join("\n"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
