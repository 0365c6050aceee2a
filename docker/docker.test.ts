/**
 * The images' sources: the web image's nginx.conf is the builder's output (no second copy), the
 * Dockerfiles keep the contracts the WebService and ApiService rely on, the placeholder API answers
 * its endpoints, and, where a Docker engine answers, both images build and pass their health checks.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HEALTH_BODY,
  NGINX_DEFAULTS,
  NGINX_WRITABLE_PATHS,
  renderNginxConfig,
} from "../components/web/nginx";
import {
  asAppUser,
  findNginx,
  freePort,
  get,
  makeTempDir,
  makeWritableDir,
  sandboxUnavailableReason,
} from "../test/fixtures/spa/serve";

const here = __dirname;
const read = (path: string): string => readFileSync(join(here, path), "utf8");

describe("docker/web", () => {
  it("carries exactly the nginx.conf renderNginxConfig() renders (npm run render:nginx)", () => {
    expect(read("web/nginx.conf")).toBe(renderNginxConfig());
  });

  it("Dockerfile.web: base image as a build argument, non-root 1001, the config's port, writable run dir, health check", () => {
    const file = read("Dockerfile.web");
    expect(file).toMatch(/^ARG NGINX_IMAGE=\S+\nFROM \$\{NGINX_IMAGE\}$/m);
    expect(file).toMatch(/^COPY nginx\.conf \/etc\/nginx\/nginx\.conf$/m);
    expect(file).toMatch(new RegExp(`^COPY public/ ${NGINX_DEFAULTS.root}/$`, "m"));
    expect(file).toMatch(/^USER 1001:1001$/m);
    expect(file).toMatch(new RegExp(`^EXPOSE ${NGINX_DEFAULTS.port}$`, "m"));
    for (const path of NGINX_WRITABLE_PATHS) {
      expect(file).toContain(`mkdir -p ${path} && chown 1001:1001 ${path}`);
    }
    expect(file).toContain(`http://127.0.0.1:${NGINX_DEFAULTS.port}/health`);
  });

  it("has a placeholder SPA whose index.html references assets that exist", () => {
    const html = read("web/public/index.html");
    const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(refs).toHaveLength(2);
    for (const ref of refs) expect(existsSync(join(here, "web/public", ref)), ref).toBe(true);
  });
});

const nginxBin = findNginx();
const noImageRun =
  nginxBin === undefined
    ? "nginx is not installed (run: bash scripts/ci/install-nginx.sh)"
    : typeof process.getuid === "function" && process.getuid() !== 0
      ? "needs root to lay out the image's paths with bubblewrap"
      : sandboxUnavailableReason();
if (noImageRun !== undefined) console.warn(`web image run without Docker skipped: ${noImageRun}`);

/**
 * The web image as it runs, without Docker: Debian's nginx started with Dockerfile.web's ENTRYPOINT,
 * uid 1001, the committed nginx.conf at /etc/nginx/nginx.conf, the placeholder SPA at the image's
 * root, a read-only root with only NGINX_WRITABLE_PATHS writable, logs on stdout and stderr, in a
 * network namespace of its own (so the config's real port is free).
 */
describe.skipIf(noImageRun !== undefined)(
  `docker/web run the way the image runs it${noImageRun ? ` (skipped: ${noImageRun})` : ""}`,
  () => {
    let base: string;
    let child: ReturnType<typeof spawn>;
    let output = "";
    let masterPid = 0;
    const inNetns = (
      path: string,
    ): { status: number; body: string; headers: Record<string, string> } => {
      const script = `require("http").get("http://127.0.0.1:${NGINX_DEFAULTS.port}${path}", (r) => {
        let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, headers: r.headers, body: b })));
      }).on("error", (e) => { console.error(e.message); process.exit(1); });`;
      const run = spawnSync(
        "nsenter",
        ["-t", String(masterPid), "-n", "--", process.execPath, "-e", script],
        {
          encoding: "utf8",
          timeout: 10_000,
        },
      );
      if (run.status !== 0)
        throw new Error(`GET ${path} in nginx's network namespace failed: ${run.stderr}`);
      return JSON.parse(run.stdout) as {
        status: number;
        body: string;
        headers: Record<string, string>;
      };
    };

    beforeAll(async () => {
      base = makeTempDir("web-image-");
      const writable = NGINX_WRITABLE_PATHS.map((p, i) => [
        makeWritableDir(join(base, `w${i}`)),
        p,
      ]);
      const entrypoint = JSON.parse(
        /^ENTRYPOINT (\[.*\])$/m.exec(read("Dockerfile.web"))?.[1] ?? "[]",
      ) as string[];
      expect(entrypoint[0]).toBe("nginx");
      const argv = [
        "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-net",
        "--tmpfs",
        "/tmp",
        ...writable.flatMap(([, p]) => ["--dir", p]),
        "--remount-ro",
        "/tmp",
        ...writable.flatMap(([host, p]) => ["--bind", host, p]),
        "--ro-bind",
        join(here, "web/nginx.conf"),
        "/etc/nginx/nginx.conf",
        "--ro-bind",
        join(here, "web/public"),
        NGINX_DEFAULTS.root,
        "--die-with-parent",
        "--",
        // The pipe to cat belongs to uid 1001, as a container runtime's stdout is openable by the
        // container's user: nginx opens /dev/stdout for its access log.
        ...asAppUser(["sh", "-c", '"$@" | cat', "sh", nginxBin as string, ...entrypoint.slice(1)]),
      ];
      child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      const pidFile = join(writable[0][0], "nginx.pid");
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (existsSync(pidFile)) {
          masterPid = Number(readFileSync(pidFile, "utf8").trim());
          try {
            if (inNetns("/health").status === 200) break;
          } catch {
            // not listening yet
          }
        }
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`nginx did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }, 30_000);

    afterAll(async () => {
      if (child?.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
      if (base) rmSync(base, { recursive: true, force: true });
    }, 20_000);

    it("serves /health, the placeholder SPA and its deep links, and logs JSON to stdout", async () => {
      expect(inNetns("/health").body).toBe(HEALTH_BODY);
      const deep = inNetns("/games/7");
      expect(deep.status).toBe(200);
      expect(deep.body).toBe(read("web/public/index.html"));
      const deadline = Date.now() + 5_000;
      while (!output.includes('"path":"/games/7"') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const line = output.split("\n").find((l) => l.includes('"path":"/games/7"'));
      expect(JSON.parse(line ?? "null")).toMatchObject({
        level: "info",
        message: "GET /games/7 200",
        context: { status: 200, method: "GET" },
      });
      expect(output).not.toMatch(/\[(emerg|alert|crit)\]/);
    });
  },
);

describe("docker/api", () => {
  it("Dockerfile.api: base image as a build argument, npm ci --omit=dev, non-root 1001, health check", () => {
    const file = read("Dockerfile.api");
    expect(file).toMatch(/^ARG NODE_IMAGE=\S+\nFROM \$\{NODE_IMAGE\}$/m);
    expect(file).toMatch(/^COPY package\.json package-lock\.json \.\/$/m);
    expect(file).toMatch(/^RUN npm ci --omit=dev /m);
    expect(file).toMatch(/^USER 1001:1001$/m);
    expect(file).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    // Graceful shutdown (src/server.js): a delay for the endpoint to go, then the drain, together
    // within a pod's default terminationGracePeriodSeconds (30 s) so the kubelet never SIGKILLs it.
    const env = /^ENV (.*)$/m.exec(file)?.[1] ?? "";
    const delay = Number(/\bSHUTDOWN_DELAY_SECONDS=(\d+)/.exec(env)?.[1]);
    const timeout = Number(/\bSHUTDOWN_TIMEOUT_SECONDS=(\d+)/.exec(env)?.[1]);
    expect(delay).toBeGreaterThanOrEqual(1);
    expect(delay + timeout).toBeLessThan(30);
    const lock = JSON.parse(read("api/package-lock.json")) as {
      packages: Record<string, { name?: string }>;
    };
    expect(lock.packages[""].name).toBe(JSON.parse(read("api/package.json")).name);
  });

  describe("the placeholder API, run with node", () => {
    let child: ReturnType<typeof spawn>;
    let url: string;
    let output = "";

    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [join(here, "api/src/server.js")], {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: "127.0.0.1",
          APP_VERSION: "test-1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await get(`${url}/health`);
          break;
        } catch (err) {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`API did not start: ${output} ${String(err)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }, 20_000);

    afterAll(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });

    it("answers /health, /ready and /api/v1/*", async () => {
      const health = await get(`${url}/health`);
      expect(health.status).toBe(200);
      expect(health.body.toString()).toBe(HEALTH_BODY);
      expect((await get(`${url}/ready`)).status).toBe(200);
      // The same probes under the base path: what a deploy's health check reaches through the edge.
      expect((await get(`${url}/api/v1/health`)).body.toString()).toBe(HEALTH_BODY);
      expect((await get(`${url}/api/v1/ready`)).status).toBe(200);
      const version = await get(`${url}/api/v1/version`);
      expect(JSON.parse(version.body.toString())).toEqual({
        name: "monkeytown-api",
        version: "test-1",
      });
      const missing = await get(`${url}/api/v1/nope`);
      expect(missing.status).toBe(404);
      expect(missing.headers["content-type"]).toBe("application/json");
    });

    it("exports the request-duration histogram the alert rules read, on /metrics", async () => {
      await get(`${url}/api/v1/status`);
      const res = await get(`${url}/metrics`);
      expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = res.body.toString();
      expect(text).toContain("# TYPE http_request_duration_seconds histogram");
      // The names and label the Alerts component's error-rate and p99 rules select on.
      expect(text).toMatch(
        /^http_request_duration_seconds_bucket\{status_code="200",le="\+Inf"\} [1-9]\d*$/m,
      );
      expect(text).toMatch(/^http_request_duration_seconds_count\{status_code="404"\} [1-9]\d*$/m);
      expect(text).toMatch(/^http_request_duration_seconds_sum\{status_code="200"\} \d+\.\d+$/m);
      expect(text).toMatch(/^process_uptime_seconds \d+\.\d+$/m);
    });

    /** stdout lines as parsed JSON, once a line containing `marker` has arrived. */
    async function logLines(marker: string): Promise<Record<string, unknown>[]> {
      const deadline = Date.now() + 5_000;
      while (!output.includes(marker) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return output
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    }

    it("logs JSON lines with level, timestamp, message and context (seed §7.3), at info by default", async () => {
      await get(`${url}/api/v1/status`, { "User-Agent": "log-test", "X-Request-ID": "req-42" });
      await get(`${url}/api/v1/log-missing`);
      await get(`${url}/health`);
      const lines = await logLines("/api/v1/log-missing");
      for (const line of lines) {
        expect(Object.keys(line)).toEqual(["level", "timestamp", "message", "context"]);
        expect(["debug", "info", "warn", "error"]).toContain(line.level);
        expect(new Date(String(line.timestamp)).toISOString()).toBe(line.timestamp);
        expect(typeof line.message).toBe("string");
        expect(typeof line.context).toBe("object");
      }
      expect(lines[0]).toMatchObject({
        level: "info",
        message: "listening",
        context: { logLevel: "info", basePath: "/api/v1" },
      });
      expect(lines.filter((l) => l.message === "GET /api/v1/status 200").at(-1)).toMatchObject({
        level: "info",
        context: {
          log: "access",
          requestId: "req-42",
          method: "GET",
          path: "/api/v1/status",
          status: 200,
          userAgent: "log-test",
        },
      });
      expect(lines.find((l) => l.message === "GET /api/v1/log-missing 404")).toMatchObject({
        level: "warn",
        context: { status: 404 },
      });
      // Probes are debug lines: not written at the default level.
      expect(lines.some((l) => String(l.message).startsWith("GET /health"))).toBe(false);
    });

    it("never logs an Authorization header, a cookie or a secret query parameter", async () => {
      const secret = "SENTINEL-api-secret-91b7";
      await get(`${url}/api/v1/status?token=${secret}-q&password=${secret}-pw`, {
        Authorization: `Bearer ${secret}-bearer`,
        Cookie: `session=${secret}-cookie`,
        "X-Api-Key": `${secret}-key`,
        "X-Request-ID": `${secret}-not-an-id-because-it-is-far-too-long-to-be-a-request-id-at-all`,
      });
      await get(`${url}/api/v1/leak-marker`);
      const lines = await logLines("/api/v1/leak-marker");
      expect(output).not.toContain(secret);
      const status = lines.filter((l) => l.message === "GET /api/v1/status 200").at(-1);
      expect((status?.context as { requestId: string }).requestId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-/,
      );
    });

    it("exits 0 on SIGTERM", async () => {
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => resolve(code)),
      );
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).toContain('"message":"shutting down","context":{"signal":"SIGTERM"}');
    });
  });
});

const dockerInfo = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
  encoding: "utf8",
  timeout: 15_000,
});
const noDocker =
  dockerInfo.status === 0
    ? undefined
    : `no Docker engine answers \`docker info\` (${(dockerInfo.stderr || dockerInfo.error?.message || "").trim().split("\n")[0]})`;
if (noDocker !== undefined) console.warn(`docker image build tests skipped: ${noDocker}`);

/**
 * Builds both images and runs them as the cluster does (read-only root, only the run dir writable).
 * Base images come from MONKEYTOWN_NGINX_IMAGE / MONKEYTOWN_NODE_IMAGE when set (a locally made
 * base), otherwise from the Dockerfiles' defaults.
 */
describe.skipIf(noDocker !== undefined)(
  `docker images${noDocker ? ` (skipped: ${noDocker})` : ""}`,
  () => {
    const docker = (args: string[], timeout = 300_000) => {
      const run = spawnSync("docker", args, { encoding: "utf8", timeout });
      if (run.status !== 0)
        throw new Error(`docker ${args.join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
      return run.stdout.trim();
    };
    const containers: string[] = [];
    afterAll(() => {
      for (const id of containers) spawnSync("docker", ["rm", "-f", id]);
    });

    async function healthy(url: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          const res = await get(url);
          if (res.status === 200) return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`${url} never answered 200`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    it("builds the web image and serves /health as uid 1001 with a read-only root", async () => {
      const base = process.env.MONKEYTOWN_NGINX_IMAGE;
      docker([
        "build",
        "-q",
        "-f",
        join(here, "Dockerfile.web"),
        "-t",
        "monkeytown-web:test",
        ...(base ? ["--build-arg", `NGINX_IMAGE=${base}`] : []),
        join(here, "web"),
      ]);
      expect(docker(["image", "inspect", "-f", "{{.Config.User}}", "monkeytown-web:test"])).toBe(
        "1001:1001",
      );
      const port = await freePort();
      const tmpfs = NGINX_WRITABLE_PATHS.flatMap((p) => ["--tmpfs", `${p}:uid=1001,gid=1001`]);
      containers.push(
        docker([
          "run",
          "-d",
          "--read-only",
          ...tmpfs,
          "-p",
          `127.0.0.1:${port}:${NGINX_DEFAULTS.port}`,
          "monkeytown-web:test",
        ]),
      );
      await healthy(`http://127.0.0.1:${port}/health`);
      const index = await get(`http://127.0.0.1:${port}/games/1`);
      expect(index.body.toString()).toContain('<div id="root">');
    }, 360_000);

    it("builds the API image and serves /health as uid 1001", async () => {
      const base = process.env.MONKEYTOWN_NODE_IMAGE;
      docker([
        "build",
        "-q",
        "-f",
        join(here, "Dockerfile.api"),
        "-t",
        "monkeytown-api:test",
        ...(base ? ["--build-arg", `NODE_IMAGE=${base}`] : []),
        join(here, "api"),
      ]);
      expect(docker(["image", "inspect", "-f", "{{.Config.User}}", "monkeytown-api:test"])).toBe(
        "1001:1001",
      );
      const port = await freePort();
      containers.push(
        docker(["run", "-d", "--read-only", "-p", `127.0.0.1:${port}:3000`, "monkeytown-api:test"]),
      );
      await healthy(`http://127.0.0.1:${port}/health`);
    }, 360_000);
  },
);
