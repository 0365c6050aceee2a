/**
 * The local base images (cluster/images/build-base.sh): each tarball is a well-formed OCI image
 * layout and docker archive of one image, and each base carries what its Dockerfile needs. The
 * proof is the Dockerfiles themselves: each one's instructions are applied to the base's root (RUN
 * with the base's own /bin/sh, nothing from the host), and the result is started the way a pod runs
 * it (uid 1001, read-only root, no network but its own loopback) until the Dockerfile's own
 * HEALTHCHECK passes. Skipped, with the reason, where the images cannot be made here (not Debian,
 * no npm, not root, no bubblewrap).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  writeFileSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEALTH_BODY, NGINX_WRITABLE_PATHS } from "../../components/web/nginx";
import {
  freePort,
  get,
  makeTempDir,
  sandboxUnavailableReason,
} from "../../test/fixtures/spa/serve";

const REPO = join(__dirname, "..", "..");
const SCRIPT = join(REPO, "cluster/images/build-base.sh");

function missing(): string | undefined {
  if (!existsSync("/etc/debian_version"))
    return "not a Debian system: the base images are made from Debian packages";
  for (const tool of ["apt-cache", "apt-get", "dpkg-deb", "npm", "openssl"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0)
    return "needs root: the Dockerfiles' RUN steps chown files in the image's root";
  return sandboxUnavailableReason();
}
const skipReason = missing();
if (skipReason !== undefined) console.warn(`local base images skipped: ${skipReason}`);

/** Runs the script; resolves with its exit code, stdout and stderr. */
function runScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface Image {
  tar: string;
  ref: string;
  /** The unpacked tarball. */
  dir: string;
  manifestDigest: string;
  manifest: { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
  config: {
    architecture: string;
    os: string;
    config: { Env?: string[]; Cmd?: string[]; StopSignal?: string };
    rootfs: { type: string; diff_ids: string[] };
  };
  /** The layer, unpacked (as root: owners and modes as in the image). */
  rootfs: string;
}

const blob = (dir: string, digest: string): Buffer =>
  readFileSync(join(dir, "blobs", "sha256", digest.replace(/^sha256:/, "")));

function unpack(tar: string, ref: string, work: string): Image {
  const dir = join(work, "image");
  mkdirSync(dir, { recursive: true });
  expect(spawnSync("tar", ["-xf", tar, "-C", dir]).status).toBe(0);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  expect(index.manifests).toHaveLength(1);
  const manifestDigest = index.manifests[0].digest;
  const manifest = JSON.parse(blob(dir, manifestDigest).toString("utf8")) as Image["manifest"];
  const config = JSON.parse(blob(dir, manifest.config.digest).toString("utf8")) as Image["config"];
  const rootfs = join(work, "rootfs");
  mkdirSync(rootfs);
  expect(
    spawnSync("tar", [
      "-xzf",
      join(dir, "blobs/sha256", manifest.layers[0].digest.slice(7)),
      "-C",
      rootfs,
    ]).status,
  ).toBe(0);
  return { tar, ref, dir, manifestDigest, manifest, config, rootfs };
}

/** A Dockerfile's instructions (continuation lines joined; comments dropped). */
function instructions(dockerfile: string): Array<[string, string]> {
  return readFileSync(dockerfile, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l)!;
      return [m[1].toUpperCase(), m[2]];
    });
}

interface Built {
  env: Record<string, string>;
  workdir: string;
  user: string;
  command: string[];
  /** The HEALTHCHECK's command, as a shell command line. */
  healthcheck: string;
}

const sandbox = (root: string, mode: "--bind" | "--ro-bind"): string[] => [
  "bwrap",
  mode,
  root,
  "/",
  "--proc",
  "/proc",
  "--dev",
  "/dev",
  "--unshare-pid",
  "--unshare-net",
  "--unshare-ipc",
  "--unshare-uts",
  "--die-with-parent",
  "--clearenv",
];
const envArgs = (env: Record<string, string>): string[] =>
  Object.entries(env).flatMap(([k, v]) => ["--setenv", k, v]);

/**
 * Applies a Dockerfile to an unpacked base, the way a builder would: COPY from the build context,
 * RUN with the base's /bin/sh as root (no network), ENV, WORKDIR, USER, ENTRYPOINT/CMD, HEALTHCHECK.
 */
function applyDockerfile(image: Image, dockerfile: string, context: string): Built {
  const env: Record<string, string> = {};
  for (const e of image.config.config.Env ?? []) {
    const i = e.indexOf("=");
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  const built: Built = { env, workdir: "/", user: "0", command: [], healthcheck: "" };
  let entrypoint: string[] = [];
  let cmd: string[] = image.config.config.Cmd ?? [];
  const root = image.rootfs;
  for (const [op, rest] of instructions(dockerfile)) {
    switch (op) {
      case "ARG":
      case "FROM":
      case "EXPOSE":
      case "LABEL": // metadata (the revision label): nothing on the filesystem
        break;
      case "ENV":
        for (const m of rest.matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
        break;
      case "WORKDIR":
        built.workdir = rest;
        mkdirSync(join(root, rest), { recursive: true });
        break;
      case "COPY": {
        const parts = rest.split(/\s+/);
        const dest = parts.pop()!;
        for (const src of parts) {
          const target = dest.endsWith("/")
            ? join(
                root,
                dest.startsWith("/") ? dest : join(built.workdir, dest),
                src.endsWith("/") ? "" : src,
              )
            : join(root, dest);
          cpSync(join(context, src), target, { recursive: true });
        }
        break;
      }
      case "RUN": {
        const run = spawnSync(
          sandbox(root, "--bind")[0],
          [
            ...sandbox(root, "--bind").slice(1),
            ...envArgs(env),
            "--chdir",
            built.workdir,
            "/bin/sh",
            "-c",
            rest,
          ],
          { encoding: "utf8", timeout: 120_000 },
        );
        expect(run.status, `RUN ${rest}\n${run.stdout}${run.stderr}`).toBe(0);
        break;
      }
      case "USER":
        built.user = rest;
        break;
      case "ENTRYPOINT":
        entrypoint = JSON.parse(rest) as string[];
        break;
      case "CMD":
        cmd = JSON.parse(rest) as string[];
        break;
      case "HEALTHCHECK": {
        const check = /\bCMD (.*)$/.exec(rest)![1];
        built.healthcheck = check.startsWith("[")
          ? (JSON.parse(check) as string[]).map(shq).join(" ")
          : check;
        break;
      }
      default:
        throw new Error(`unexpected instruction ${op} in ${dockerfile}`);
    }
  }
  built.command = [...entrypoint, ...cmd];
  return built;
}

/**
 * Starts the built image's command as its USER on a read-only root (only `writable` paths are
 * writable, as emptyDirs are in a pod), waits for its HEALTHCHECK to pass, then runs `probe` in the
 * same sandbox and returns what it printed.
 */
function runContainer(
  image: Image,
  built: Built,
  writable: readonly string[],
  work: string,
  probe: string,
): { status: number | null; stdout: string; stderr: string } {
  const passwd = readFileSync(join(image.rootfs, "etc/passwd"), "utf8");
  const uid = built.user.split(":")[0];
  const name = passwd
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f[2] === uid)?.[0];
  expect(name, `a user with uid ${uid} in the image's /etc/passwd`).toBeDefined();
  const binds = writable.flatMap((p, i) => {
    const host = join(work, `writable-${i}`);
    mkdirSync(host);
    chownSync(host, Number(uid), Number(uid));
    return ["--bind", host, p];
  });
  // The command's output goes to stderr through a pipe the user owns, as a container runtime's
  // stdout is openable by the container's user (nginx opens /dev/stdout for its access log).
  const script = [
    `${built.command.map(shq).join(" ")} 2>&1 | cat >&2 &`,
    "i=0",
    `until ( ${built.healthcheck} ) >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || { echo "HEALTHCHECK never passed"; exit 1; }; sleep 0.2; done`,
    probe,
  ].join("\n");
  const run = spawnSync(
    "bwrap",
    [
      ...sandbox(image.rootfs, "--ro-bind").slice(1),
      ...binds,
      ...envArgs(built.env),
      "--chdir",
      built.workdir,
      // busybox su (the base's): switches to the user, keeps the environment but HOME and SHELL.
      "su",
      "-s",
      "/bin/sh",
      name!,
      "-c",
      `cd ${shq(built.workdir)} && ${script}`,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.skipIf(skipReason !== undefined)(
  `local base images${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    const out: Record<string, string> = {};
    const images: Record<string, Image> = {};
    let work: string;

    beforeAll(async () => {
      const r = await runScript([]);
      expect(r.code, r.stderr).toBe(0);
      for (const line of r.stdout.trim().split("\n")) {
        const i = line.indexOf("=");
        out[line.slice(0, i)] = line.slice(i + 1);
      }
      work = makeTempDir("base-images-");
      for (const name of ["nginx", "node"]) {
        const upper = name.toUpperCase();
        mkdirSync(join(work, name));
        images[name] = unpack(
          out[`${upper}_IMAGE_TAR`],
          out[`${upper}_IMAGE_REF`],
          join(work, name),
        );
      }
    }, 600_000);

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    }, 60_000);

    it("prints each image's tarball and reference", () => {
      expect(Object.keys(out).sort()).toEqual([
        "NGINX_IMAGE_REF",
        "NGINX_IMAGE_TAR",
        "NODE_IMAGE_REF",
        "NODE_IMAGE_TAR",
      ]);
      expect(out.NGINX_IMAGE_REF).toMatch(/^monkeytown\.local\/base\/nginx:1\.22\.1-[\w.-]+$/);
      expect(out.NODE_IMAGE_REF).toMatch(/^monkeytown\.local\/base\/node:20\.20\.2-[0-9a-f]{10}$/);
    });

    it.each(["nginx", "node"])(
      "%s: one OCI image (index, manifest, config, one gzip layer) whose blobs match their digests, and a docker archive manifest of the same",
      (name) => {
        const img = images[name];
        expect(JSON.parse(readFileSync(join(img.dir, "oci-layout"), "utf8"))).toEqual({
          imageLayoutVersion: "1.0.0",
        });
        const index = JSON.parse(readFileSync(join(img.dir, "index.json"), "utf8")) as {
          manifests: Descriptor[];
        };
        expect(index.manifests[0]).toMatchObject({
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          annotations: { "io.containerd.image.name": img.ref },
        });
        for (const file of readdirSync(join(img.dir, "blobs/sha256"))) {
          expect(sha256(readFileSync(join(img.dir, "blobs/sha256", file))), file).toBe(file);
        }
        expect(blob(img.dir, img.manifestDigest).length).toBe(index.manifests[0].size);
        expect(img.manifest).toMatchObject({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json" },
        });
        expect(img.manifest.layers).toHaveLength(1);
        const layer = img.manifest.layers[0];
        expect(layer.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
        expect(blob(img.dir, layer.digest).length).toBe(layer.size);
        expect(blob(img.dir, img.manifest.config.digest).length).toBe(img.manifest.config.size);
        expect(img.config).toMatchObject({ architecture: "amd64", os: "linux" });
        expect(img.config.rootfs).toEqual({
          type: "layers",
          diff_ids: [`sha256:${sha256(gunzipSync(blob(img.dir, layer.digest)))}`],
        });
        const docker = JSON.parse(readFileSync(join(img.dir, "manifest.json"), "utf8")) as unknown;
        expect(docker).toEqual([
          {
            Config: `blobs/sha256/${img.manifest.config.digest.slice(7)}`,
            RepoTags: [img.ref],
            Layers: [`blobs/sha256/${layer.digest.slice(7)}`],
          },
        ]);
      },
    );

    it.each(["nginx", "node"])(
      "%s: every file is root's, /bin/sh exists and uid 1001 has a user",
      (name) => {
        const img = images[name];
        const listing = spawnSync(
          "tar",
          [
            "-tzv",
            "--numeric-owner",
            "-f",
            join(img.dir, "blobs/sha256", img.manifest.layers[0].digest.slice(7)),
          ],
          { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
        ).stdout;
        const owners = new Set(
          listing
            .trim()
            .split("\n")
            .map((l) => l.split(/\s+/)[1]),
        );
        expect([...owners]).toEqual(["0/0"]);
        expect(existsSync(join(img.rootfs, "bin/sh"))).toBe(true);
        expect(readFileSync(join(img.rootfs, "etc/passwd"), "utf8")).toMatch(/^app:x:1001:1001:/m);
        expect(readFileSync(join(img.rootfs, "etc/group"), "utf8")).toMatch(/^app:x:1001:$/m);
      },
    );

    it("nginx: Debian's nginx where the public image has it, and nginx's graceful stop signal", () => {
      const img = images.nginx;
      expect(existsSync(join(img.rootfs, "usr/sbin/nginx"))).toBe(true);
      expect(existsSync(join(img.rootfs, "etc/nginx/mime.types"))).toBe(true);
      expect(img.config.config.StopSignal).toBe("SIGQUIT");
      expect(img.config.config.Cmd).toEqual(["nginx", "-g", "daemon off;"]);
    });

    it("node: Node 20 and npm on PATH where the public image has them", () => {
      const img = images.node;
      expect(existsSync(join(img.rootfs, "usr/local/bin/node"))).toBe(true);
      expect(existsSync(join(img.rootfs, "usr/local/lib/node_modules/npm/bin/npm-cli.js"))).toBe(
        true,
      );
      const version = spawnSync(
        "bwrap",
        [
          ...sandbox(img.rootfs, "--ro-bind").slice(1),
          "--setenv",
          "PATH",
          "/usr/local/bin:/usr/bin",
          "sh",
          "-c",
          "node --version && npm --version",
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      expect(version.status, version.stderr).toBe(0);
      expect(version.stdout).toMatch(/^v20\.\d+\.\d+\n\d+\.\d+\.\d+\n$/);
    });

    it("docker/Dockerfile.web builds on the nginx base, and the result serves /health as uid 1001 on a read-only root", () => {
      const img = images.nginx;
      const built = applyDockerfile(
        img,
        join(REPO, "docker/Dockerfile.web"),
        join(REPO, "docker/web"),
      );
      expect(built.user).toBe("1001:1001");
      const run = runContainer(
        img,
        built,
        NGINX_WRITABLE_PATHS,
        join(work, "nginx"),
        "id -u; wget -q -O - http://127.0.0.1:8080/health",
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`1001\n${HEALTH_BODY}`);
    });

    it("docker/Dockerfile.api builds on the node base (npm ci offline), and the result serves /health as uid 1001 on a read-only root", () => {
      const img = images.node;
      const built = applyDockerfile(
        img,
        join(REPO, "docker/Dockerfile.api"),
        join(REPO, "docker/api"),
      );
      expect(built.user).toBe("1001:1001");
      const run = runContainer(
        img,
        built,
        [],
        join(work, "node"),
        "id -u; wget -q -O - http://127.0.0.1:3000/health",
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe('1001\n{"status":"healthy"}');
    });

    const noRegistry =
      spawnSync("sh", ["-c", "command -v docker-registry"]).status === 0
        ? undefined
        : "Debian's docker-registry is not installed (apt-get install -y docker-registry)";
    it.skipIf(noRegistry !== undefined)(
      `--push uploads an image to a registry, which serves it under the digest printed${noRegistry ? ` (skipped: ${noRegistry})` : ""}`,
      async () => {
        const port = await freePort();
        const storage = join(work, "registry");
        const config = join(work, "registry.yml");
        writeFileSync(
          config,
          `version: 0.1\nlog: { level: error, accesslog: { disabled: true } }\n` +
            `storage: { filesystem: { rootdirectory: ${storage} } }\nhttp: { addr: 127.0.0.1:${port} }\n`,
        );
        const registry = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
        try {
          const base = `http://127.0.0.1:${port}/v2`;
          for (let i = 0; ; i++) {
            const up = await get(`${base}/`).catch(() => undefined);
            if (up?.status === 200) break;
            if (i > 100) throw new Error("docker-registry did not answer");
            await new Promise((r) => setTimeout(r, 100));
          }
          const r = await runScript(["--push", `127.0.0.1:${port}`, "nginx"]);
          expect(r.code, r.stderr).toBe(0);
          const img = images.nginx;
          expect(r.stdout).toContain(
            `NGINX_IMAGE=127.0.0.1:${port}/monkeytown-base/nginx@${img.manifestDigest}\n`,
          );
          const manifest = await get(
            `${base}/monkeytown-base/nginx/manifests/${img.manifestDigest}`,
            { Accept: "application/vnd.oci.image.manifest.v1+json" },
          );
          expect(manifest.status).toBe(200);
          expect(manifest.headers["docker-content-digest"]).toBe(img.manifestDigest);
          expect(JSON.parse(manifest.body.toString())).toEqual(img.manifest);
          const tag = img.ref.split(":").pop()!;
          const byTag = await get(`${base}/monkeytown-base/nginx/manifests/${tag}`, {
            Accept: "application/vnd.oci.image.manifest.v1+json",
          });
          expect(byTag.headers["docker-content-digest"]).toBe(img.manifestDigest);
          const layer = await get(
            `${base}/monkeytown-base/nginx/blobs/${img.manifest.layers[0].digest}`,
          );
          expect(layer.status).toBe(200);
          expect(Number(layer.headers["content-length"])).toBe(img.manifest.layers[0].size);
        } finally {
          registry.kill("SIGTERM");
        }
      },
      180_000,
    );

    it("a second run finds the cached images", async () => {
      const r = await runScript(["--check"]);
      expect(r.code).toBe(0);
      const again = await runScript(["nginx"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`NGINX_IMAGE_TAR=${out.NGINX_IMAGE_TAR}\n`);
      expect(again.stderr).toMatch(/base image nginx: cache hit/);
    }, 180_000);
  },
);
