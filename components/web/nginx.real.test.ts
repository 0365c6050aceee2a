/**
 * The nginx.conf from renderNginxConfig, run by Debian's nginx on a loopback port as a non-root
 * user, inside a read-only root (bubblewrap) with only the declared writable paths writable, serving
 * a realistic SPA build. Skips, saying why, only when nginx is not installed
 * (scripts/ci/install-nginx.sh installs it; CI runs that first).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSpaFixture, type SpaFixture } from "../../test/fixtures/spa/build";
import {
  BROTLI_STATIC_MODULE,
  NGINX_UID,
  asAppUser,
  findNginx,
  get,
  makeTempDir,
  makeWritableDir,
  sandboxUnavailableReason,
  startNginx,
  type RawResponse,
  type RunningNginx,
} from "../../test/fixtures/spa/serve";
import { NGINX_DEFAULTS, NGINX_WRITABLE_PATHS, SECURITY_HEADERS, renderNginxConfig } from "./nginx";

// The literals the seeds ask for, spelled out: a changed constant in nginx.ts must fail here.
/** Fingerprinted assets: a year, immutable (architecture seed §3.1 "cache headers for assets"). */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html and SPA routes: revalidate on every load, so a deploy is seen at once. */
const NO_CACHE = "no-cache";
/** Probes: never from a cache. */
const NO_STORE = "no-store";
/** Architecture seed §7.1: the probe bodies. */
const HEALTH = '{"status":"healthy"}';
const READY = '{"status":"ready"}';

const nginxBin = findNginx();
const skipReason =
  nginxBin === undefined
    ? "nginx is not installed (run: bash scripts/ci/install-nginx.sh)"
    : undefined;
if (skipReason !== undefined) console.warn(`nginx.real.test.ts skipped: ${skipReason}`);
// Root is needed to switch nginx to uid 1001 and to look into its mount namespace (nsenter); a
// non-root run still tests everything else, with nginx as the current (already non-root) user.
const notRoot = typeof process.getuid === "function" && process.getuid() !== 0;
const sandboxReason =
  skipReason ??
  (notRoot
    ? "not root: cannot run nginx as uid 1001 in a read-only sandbox"
    : sandboxUnavailableReason());
if (skipReason === undefined && sandboxReason !== undefined) {
  console.warn(`nginx.real.test.ts runs without a read-only root: ${sandboxReason}`);
}
const brotli = existsSync(BROTLI_STATIC_MODULE);

describe.skipIf(skipReason !== undefined)(
  `renderNginxConfig served by a real nginx${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let base: string;
    let runDir: string;
    let spa: SpaFixture;
    let server: RunningNginx;
    let url: string;
    /** Lazily loaded chunks with no pre-compressed copy beside them: gzip must compress on the fly. */
    const lazy = { js: "/assets/lazy-0a1b2c3d.js", mjs: "/assets/worker-4e5f6a7b.mjs" };

    beforeAll(async () => {
      base = makeTempDir("nginx-real-");
      spa = buildSpaFixture(join(base, "html"), { gzip: true, brotli });
      for (const path of Object.values(lazy))
        copyFileSync(join(spa.dir, spa.paths.js), join(spa.dir, path));
      // Debian's MIME types, plus `.mjs` as text/javascript (RFC 9239), so both JavaScript types
      // the config compresses are served.
      const mimeTypes = join(base, "mime.types");
      writeFileSync(
        mimeTypes,
        readFileSync("/etc/nginx/mime.types", "utf8").replace(
          /types\s*\{/,
          "types {\n    text/javascript mjs;",
        ),
      );
      // The only writable folder: the builder's runDir (pid, temp folders); logs go there too so the
      // test can read them (in the pod they go to stdout/stderr).
      runDir = makeWritableDir(join(base, "run"));
      const writable = NGINX_WRITABLE_PATHS.map((p) => (p === NGINX_DEFAULTS.runDir ? runDir : p));
      server = await startNginx({
        nginx: nginxBin as string,
        confDir: base,
        errorLog: join(runDir, "error.log"),
        sandboxWritable: sandboxReason === undefined ? writable : undefined,
        render: (port) =>
          renderNginxConfig({
            port,
            listenAddress: "127.0.0.1",
            ipv6: false,
            root: spa.dir,
            runDir,
            mimeTypes,
            accessLog: join(runDir, "access.log"),
            errorLog: join(runDir, "error.log"),
            loadModules: brotli ? [BROTLI_STATIC_MODULE] : [],
            brotliStatic: brotli,
          }),
      });
      url = server.baseUrl;
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    }, 20_000);

    const file = (path: string): Buffer => readFileSync(join(spa.dir, path));
    const gzip = { "Accept-Encoding": "gzip" };

    function expectSecurityHeaders(res: RawResponse): void {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        expect(res.headers[name.toLowerCase()], name).toBe(value);
      }
    }

    it("answers /health and /ready with their JSON bodies, never cached", async () => {
      for (const [path, body] of [
        ["/health", HEALTH],
        ["/ready", READY],
      ]) {
        const res = await get(url + path);
        expect(res.status, path).toBe(200);
        expect(res.body.toString(), path).toBe(body);
        expect(res.headers["content-type"], path).toBe("application/json");
        expect(res.headers["cache-control"], path).toBe(NO_STORE);
        expectSecurityHeaders(res);
      }
    });

    it.each([
      ["HTML", "/index.html", "text/html"],
      ["CSS", "css", "text/css"],
      ["JS", "js", "application/javascript"],
      ["JSON", "json", "application/json"],
      ["SVG", "svg", "image/svg+xml"],
    ] as const)("gzips %s above the minimum size", async (_kind, which, type) => {
      const path = which.startsWith("/") ? which : spa.paths[which as keyof SpaFixture["paths"]];
      expect(spa.sizes[path]).toBeGreaterThan(NGINX_DEFAULTS.gzipMinLength);
      const res = await get(url + path, gzip);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toContain(type);
      expect(res.headers["content-encoding"]).toBe("gzip");
      expect(res.headers["vary"]).toBe("Accept-Encoding");
      expect(gunzipSync(res.body).equals(file(path))).toBe(true);
      expect(res.body.length).toBeLessThan(file(path).length * 0.8);
    });

    it("serves the pre-compressed .gz of JS and CSS as is (gzip_static), under 35% of the original", async () => {
      for (const path of [spa.paths.js, spa.paths.css]) {
        const res = await get(url + path, gzip);
        expect(res.headers["content-encoding"]).toBe("gzip");
        expect(res.body.equals(file(`${path}.gz`)), path).toBe(true);
        expect(res.body.length / spa.sizes[path], path).toBeLessThan(0.35);
      }
    });

    it.each([
      ["application/javascript", "js"],
      ["text/javascript", "mjs"],
    ] as const)("gzips %s on the fly when no .gz sits beside the file", async (type, which) => {
      const path = lazy[which];
      expect(existsSync(join(spa.dir, `${path}.gz`))).toBe(false);
      const res = await get(url + path, gzip);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe(type);
      expect(res.headers["content-encoding"]).toBe("gzip");
      expect(res.headers["vary"]).toBe("Accept-Encoding");
      expect(gunzipSync(res.body).equals(file(path))).toBe(true);
      expect(res.body.length).toBeLessThan(file(path).length * 0.5);
    });

    it.skipIf(!brotli)(
      "serves the pre-compressed .br of JS and CSS to browsers that accept Brotli",
      async () => {
        for (const path of [spa.paths.js, spa.paths.css]) {
          const res = await get(url + path, { "Accept-Encoding": "gzip, deflate, br" });
          expect(res.headers["content-encoding"], path).toBe("br");
          expect(res.body.equals(file(`${path}.br`)), path).toBe(true);
          expect(brotliDecompressSync(res.body).equals(file(path)), path).toBe(true);
        }
      },
    );

    it("does not gzip images, files under the minimum size, or clients that do not ask", async () => {
      const png = await get(url + spa.paths.png, gzip);
      expect(png.headers["content-type"]).toBe("image/png");
      expect(spa.sizes[spa.paths.png]).toBeGreaterThan(NGINX_DEFAULTS.gzipMinLength);
      expect(png.headers["content-encoding"]).toBeUndefined();
      expect(png.body.equals(file(spa.paths.png))).toBe(true);

      const robots = await get(`${url}/robots.txt`, gzip);
      expect(robots.headers["content-type"]).toContain("text/plain");
      expect(robots.headers["content-encoding"]).toBeUndefined();

      const plain = await get(url + spa.paths.js);
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(plain.body.equals(file(spa.paths.js))).toBe(true);
    });

    it("caches fingerprinted assets for a year as immutable", async () => {
      for (const path of Object.values(spa.paths)) {
        const res = await get(url + path, gzip);
        expect(res.status, path).toBe(200);
        expect(res.headers["cache-control"], path).toBe(IMMUTABLE);
        expectSecurityHeaders(res);
      }
    });

    it("never caches index.html, whether asked for as / or /index.html", async () => {
      for (const path of ["/", "/index.html"]) {
        const res = await get(url + path);
        expect(res.status, path).toBe(200);
        expect(res.body.equals(file("/index.html")), path).toBe(true);
        expect(res.headers["cache-control"], path).toBe(NO_CACHE);
        expect(res.headers["etag"], path).toBeDefined();
        expectSecurityHeaders(res);
      }
    });

    it("answers deep links with index.html", async () => {
      for (const path of ["/games/42", "/profile/settings?tab=2", "/assets"]) {
        const res = await get(url + path);
        expect(res.status, path).toBe(200);
        expect(res.body.equals(file("/index.html")), path).toBe(true);
        expect(res.headers["cache-control"], path).toBe(NO_CACHE);
      }
    });

    it("answers a missing /assets/ file with a 404 that is not cached as immutable", async () => {
      const res = await get(`${url}/assets/index-00000000.js`);
      expect(res.status).toBe(404);
      expect(res.body.toString()).not.toContain('<div id="root">');
      expect(res.headers["cache-control"]).toBeUndefined();
      expectSecurityHeaders(res);
    });

    it("does not reveal the nginx version", async () => {
      for (const path of ["/", "/assets/missing.css"]) {
        const res = await get(url + path);
        expect(res.headers["server"], path).toBe("nginx");
        expect(res.body.toString(), path).not.toMatch(/nginx\/\d/);
      }
    });

    /** Access-log entries once a line for `marker` has been written (nginx logs after responding). */
    async function accessLog(marker: string): Promise<Record<string, unknown>[]> {
      const path = join(runDir, "access.log");
      let lines: string[] = [];
      for (let i = 0; i < 40; i++) {
        lines = readFileSync(path, "utf8").trim().split("\n");
        if (lines.some((l) => l.includes(marker))) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    }

    it("logs one JSON object per request with level, timestamp, message and context (seed §7.3), none for probes", async () => {
      await get(`${url}/games/log-probe`, { "User-Agent": 'agent "with" quotes', ...gzip });
      await get(`${url}/assets/missing-log-probe.js`);
      await get(`${url}/health`);
      const entries = await accessLog("missing-log-probe");
      for (const e of entries) {
        expect(Object.keys(e)).toEqual(["level", "timestamp", "message", "context"]);
        expect(["debug", "info", "warn", "error"]).toContain(e.level);
        // ISO 8601 with an offset, e.g. 2025-01-31T12:00:00+00:00.
        expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$/);
        expect(Math.abs(Date.parse(String(e.timestamp)) - Date.now())).toBeLessThan(120_000);
      }
      const deep = entries.find((e) => e.message === "GET /games/log-probe 200");
      expect(deep).toMatchObject({ level: "info" });
      expect(deep?.context).toMatchObject({
        log: "access",
        method: "GET",
        path: "/games/log-probe",
        status: 200,
        protocol: "HTTP/1.1",
        remote_addr: "127.0.0.1",
        user_agent: 'agent "with" quotes',
      });
      const ctx = deep?.context as Record<string, unknown>;
      expect(ctx.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(typeof ctx.body_bytes_sent).toBe("number");
      expect(typeof ctx.request_time).toBe("number");
      const missing = entries.find((e) => e.message === "GET /assets/missing-log-probe.js 404");
      expect(missing).toMatchObject({ level: "warn", context: { status: 404 } });
      expect(entries.some((e) => (e.context as { path?: string }).path === "/health")).toBe(false);
    });

    it("never logs an Authorization header, a cookie or a secret query parameter, in either log", async () => {
      const secret = "SENTINEL-secret-4f2a9c";
      const headers = {
        Authorization: `Bearer ${secret}-bearer`,
        Cookie: `session=${secret}-cookie`,
        Referer: `https://monkeytown.app/reset?token=${secret}-referer`,
        "X-Api-Key": `${secret}-header`,
      };
      for (const path of [
        `/games/leak?token=${secret}-query&password=${secret}-pw`,
        `/assets/missing-leak.js?api_key=${secret}-asset`,
        `/index.html?access_token=${secret}-html`,
        `/?x=1#${secret}-fragment`,
      ]) {
        await get(url + path, headers);
      }
      const entries = await accessLog("missing-leak");
      const access = readFileSync(join(runDir, "access.log"), "utf8");
      const errors = readFileSync(join(runDir, "error.log"), "utf8");
      expect(access).not.toContain(secret);
      expect(errors).not.toContain(secret);
      const leak = entries.find((e) => e.message === "GET /games/leak 200");
      expect(leak?.context).toMatchObject({
        path: "/games/leak",
        referer: "https://monkeytown.app/reset",
      });
      // The error log is nginx's text format: whatever it holds is level-tagged, warn and above.
      for (const line of errors.split("\n").filter(Boolean)) {
        expect(line).toMatch(
          /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(warn|error|crit|alert|emerg)\] \d+#\d+: /,
        );
      }
    });

    it.skipIf(sandboxReason !== undefined)(
      `runs as uid ${NGINX_UID} with a read-only root, writing only to its declared writable paths${sandboxReason ? ` (skipped: ${sandboxReason})` : ""}`,
      async () => {
        const masterPid = Number(readFileSync(join(runDir, "nginx.pid"), "utf8").trim());
        const status = readFileSync(`/proc/${masterPid}/status`, "utf8");
        expect(status).toMatch(new RegExp(`^Uid:\\s+${NGINX_UID}\\s`, "m"));

        // The mounts nginx sees: the last mount at a point wins. Outside /dev and /proc (the
        // sandbox's own pseudo file systems), only the runDir may be writable.
        const mounts = new Map<string, string>();
        for (const line of readFileSync(`/proc/${masterPid}/mountinfo`, "utf8")
          .trim()
          .split("\n")) {
          const fields = line.split(" ");
          mounts.set(fields[4], fields[5]);
        }
        expect(mounts.get("/")?.split(",")).toContain("ro");
        const writable = [...mounts]
          .filter(
            ([point, opts]) => opts.split(",").includes("rw") && !/^\/(dev|proc)(\/|$)/.test(point),
          )
          .map(([point]) => point);
        expect(writable).toEqual([runDir]);

        // nginx made its temp folders in runDir; a write anywhere else fails in its namespace.
        expect(existsSync(join(runDir, "client_body"))).toBe(true);
        const probe = (target: string) =>
          spawnSync(
            "nsenter",
            ["-t", String(masterPid), "-m", "--", ...asAppUser(["sh", "-c", `echo x > ${target}`])],
            { encoding: "utf8", timeout: 10_000 },
          );
        const elsewhere = probe(join(spa.dir, "written-by-nginx-user"));
        expect(elsewhere.status).not.toBe(0);
        expect(elsewhere.stderr).toMatch(/Read-only file system/);
        expect(probe(join(runDir, "probe")).status).toBe(0);
        const health = await get(`${url}/health`);
        expect(health.status).toBe(200);
      },
    );
  },
);

describe.skipIf(skipReason !== undefined)(
  `an image whose build lost index.html, served by a real nginx${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let base: string;
    let runDir: string;
    let server: RunningNginx;

    beforeAll(async () => {
      base = makeTempDir("nginx-broken-");
      const root = makeWritableDir(join(base, "html"));
      runDir = makeWritableDir(join(base, "run"));
      server = await startNginx({
        nginx: nginxBin as string,
        confDir: base,
        errorLog: join(runDir, "error.log"),
        render: (port) =>
          renderNginxConfig({
            port,
            listenAddress: "127.0.0.1",
            ipv6: false,
            root,
            runDir,
            accessLog: join(runDir, "access.log"),
            errorLog: join(runDir, "error.log"),
          }),
      });
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    }, 20_000);

    it("answers 404, logged as a warn line of the access log; the text error log gets no request line with its query", async () => {
      const secret = "SENTINEL-broken-7d1e";
      const res = await get(`${server.baseUrl}/games/1?token=${secret}`);
      expect(res.status).toBe(404);
      let access = "";
      for (let i = 0; i < 40 && !access.includes("/games/1"); i++) {
        await new Promise((r) => setTimeout(r, 50));
        access = readFileSync(join(runDir, "access.log"), "utf8");
      }
      const line = JSON.parse(access.trim().split("\n").at(-1) ?? "null") as Record<
        string,
        unknown
      >;
      expect(line).toMatchObject({ level: "warn", message: "GET /games/1 404" });
      expect(access).not.toContain(secret);
      expect(readFileSync(join(runDir, "error.log"), "utf8")).not.toContain(secret);
    });
  },
);
