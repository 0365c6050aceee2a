/**
 * Our own images in real pods (issue 10): production's shape deployed with the real node
 * (`cluster:deploy -- production --real-node` does the same): the program's Registry component
 * builds both images from docker/ with docker-build on the node's builder, on the local base
 * images, pushes them to the local registry and deploys them by digest; the web and API pods run
 * on the real node. Checked from the host against the live Services (kube-proxy's ClusterIPs) and
 * the node's own processes, then one rolling update of the web tier under load. Skipped, with
 * the reason, when the cluster has no real node.
 */
import * as fs from "fs";
import * as http from "http";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad, formatLoad } from "../../bench/load";
import { ensureDockerBuildPlugin, ensureImageBuilder } from "../../cluster/image-builder";
import { realNodeContainerPid } from "../../cluster/local";
import { REAL_NODE } from "../../cluster/workspace";
import { OPCODE, connectWebSocket } from "../fixtures/ws-client";
import { toolchain } from "../engine/harness";
import {
  CLUSTER_TIMEOUT_MS,
  ClusterStackFixture,
  EventLog,
  getItems,
  kubectlTry,
  realNodeSkipReason,
  until,
  type KubeObject,
} from "./harness";

const NS = "monkeytown";
/** The local cluster's Service range (cluster/lib.sh): the only addresses load may go to. */
const SERVICE_RANGE = "10.96.0.0/12";

const reason =
  realNodeSkipReason() ?? (toolchain.ready ? undefined : toolchain.reason) ?? ctrMissing();
if (reason) console.warn(`[real-pods tests] skipped: ${reason}`);

function ctrMissing(): string | undefined {
  const r = kubectlTry(["version", "--client"]);
  if (r.status !== 0) return "kubectl does not run";
  return fs.existsSync("/usr/bin/ctr") ? undefined : "containerd's ctr is not installed";
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** GET with the given headers; the body as it came over the wire (not decompressed). */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on("error", reject);
  });
}

function serviceUrl(name: string): string {
  const svc = getItems("services", NS).find((s) => s.metadata.name === name);
  if (!svc) throw new Error(`no Service ${name} in ${NS}`);
  return `http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}`;
}

function pods(component: string): KubeObject[] {
  return getItems("pods", NS).filter(
    (p) =>
      p.metadata.labels?.["app.kubernetes.io/component"] === component &&
      p.status?.phase === "Running",
  );
}

describe.skipIf(reason !== undefined)("our images in real pods (production's shape)", () => {
  let fx: ClusterStackFixture;
  let web = "";
  let api = "";

  beforeAll(async () => {
    if (kubectlTry(["get", "namespace", NS]).status === 0) {
      throw new Error(
        `the cluster already has namespace ${NS}: remove it first (\`npm run cluster:deploy -- production unprotect\`, then \`destroy\`)`,
      );
    }
    const builder = ensureImageBuilder((m) => console.warn(`[real-pods tests] ${m}`));
    fx = new ClusterStackFixture("production", builder);
    ensureDockerBuildPlugin(`${fx.dir}/home`);
    await fx.open();
    const result = await fx.stack.up({ ...fx.policy(), onEvent: new EventLog().onEvent });
    expect(result.summary.result).toBe("succeeded");
    web = serviceUrl("web");
    api = serviceUrl("api");
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    if (fx?.stack && kubectlTry(["get", "namespace", NS]).status === 0) {
      await fx.cli(["state", "unprotect", "--all", "--yes"]);
      await fx.stack.destroy().catch(() => undefined);
    }
    fx?.remove();
  }, CLUSTER_TIMEOUT_MS);

  it("runs the images the Registry built, by digest from the local registry, on the real node", async () => {
    const registry = fx.builder!.registry;
    const outputs = await fx.stack.outputs();
    const images = outputs.images.value as { web: string; api: string };
    expect(images.web).toMatch(
      new RegExp(`^${registry}/monkeytown/monkeytown-web@sha256:[0-9a-f]{64}$`),
    );
    expect(images.api).toMatch(
      new RegExp(`^${registry}/monkeytown/monkeytown-api@sha256:[0-9a-f]{64}$`),
    );
    for (const [component, image, count] of [
      ["web", images.web, 2],
      ["api", images.api, 4], // blue and green, two each
    ] as const) {
      const running = pods(component);
      expect(running).toHaveLength(count);
      for (const p of running) {
        expect(p.spec.nodeName).toBe(REAL_NODE.name);
        expect(p.spec.containers[0].image).toBe(image);
      }
    }
    // Ready behind their Services. Waited for: on a loaded machine (CI runs the other test projects
    // beside this one) two slow readiness probes in a row take a pod out for a moment.
    await until("every web and API pod Ready", 60, () => {
      const all = [...pods("web"), ...pods("api")];
      const ready = all.filter(
        (p) =>
          p.status.conditions?.find((c: { type: string }) => c.type === "Ready")?.status === "True",
      );
      return all.length === 6 && ready.length === 6 ? true : undefined;
    });
  });

  it("admitted under the restricted Pod Security Standard, as uid 1001 on a read-only root", () => {
    const ns = JSON.parse(kubectlTry(["get", "namespace", NS, "-o", "json"]).stdout) as KubeObject;
    expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    for (const p of [...pods("web"), ...pods("api")]) {
      const pid = realNodeContainerPid(p.status.containerStatuses[0].containerID);
      // The process itself, read from the host: its real and effective uid, and its root mount.
      const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      expect(uids?.slice(1, 3), p.metadata.name).toEqual(["1001", "1001"]);
      const rootMount = fs
        .readFileSync(`/proc/${pid}/mountinfo`, "utf8")
        .split("\n")
        .find((l) => l.split(" ")[4] === "/");
      expect(rootMount?.split(" ")[5].split(","), p.metadata.name).toContain("ro");
    }
  });

  it("/health and /ready answer the seed's JSON on both tiers", async () => {
    for (const base of [web, api]) {
      const health = await get(`${base}/health`);
      expect([health.status, JSON.parse(health.body.toString())]).toEqual([
        200,
        { status: "healthy" },
      ]);
      const ready = await get(`${base}/ready`);
      expect([ready.status, JSON.parse(ready.body.toString())]).toEqual([200, { status: "ready" }]);
    }
  });

  it("serves the SPA: gzip JS with the immutable cache header, index.html revalidated, fallback and 404", async () => {
    const index = await get(`${web}/`);
    expect(index.status).toBe(200);
    expect(index.headers["cache-control"]).not.toMatch(/immutable/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.body.toString())?.[1];
    expect(script).toMatch(/^\/assets\/app-[0-9a-f]{8}\.js$/);

    const js = await get(`${web}${script}`, { "accept-encoding": "gzip" });
    expect(js.status).toBe(200);
    expect(js.headers["content-encoding"]).toBe("gzip");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(zlib.gunzipSync(js.body).toString()).toContain("new WebSocket(");

    const route = await get(`${web}/games/42/lobby`);
    expect(route.status).toBe(200);
    expect(route.body.toString()).toBe(index.body.toString());

    const missing = await get(`${web}/assets/app-00000000.js`);
    expect(missing.status).toBe(404);
  });

  it("the API answers under /api/v1, and /ws completes a handshake and echoes", async () => {
    const status = await get(`${api}/api/v1/status`);
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body.toString())).toMatchObject({ status: "ok" });
    const unknown = await get(`${api}/api/v1/no-such-thing`);
    expect(unknown.status).toBe(404);

    const ws = await connectWebSocket(`${api}/ws`);
    try {
      ws.sendText("hello from the host");
      const frame = await ws.next(5_000);
      expect([frame.opcode, frame.payload.toString()]).toEqual([
        OPCODE.TEXT,
        "hello from the host",
      ]);
      ws.sendClose(1000);
      expect((await ws.next(5_000)).opcode).toBe(OPCODE.CLOSE);
    } finally {
      ws.destroy();
    }
  });

  it("a rolling update of the web tier to a new image under load fails no request", async () => {
    const before = (await fx.stack.outputs()).images.value as { web: string };
    const load = startLoad({
      targets: [
        { name: "web", url: `${web}/`, expectBody: 'id="root"' },
        { name: "api", url: `${api}/api/v1/status`, expectBody: '"ok"' },
      ],
      ratePerSecond: 20,
      maxRequests: 20 * 300,
      maxSeconds: 300,
      allowedRanges: [SERVICE_RANGE],
    });
    // A new commit: a new tag, a new revision label, a new digest; the API colours stay pinned.
    await fx.pin();
    await fx.stack.setConfig("monkeytown:registry.tag", { value: "rolled-under-load" }, true);
    const result = await fx.stack.up({ ...fx.policy(), onEvent: new EventLog().onEvent });
    // Traffic goes on a little after the rollout, while the old pods finish leaving.
    await new Promise((r) => setTimeout(r, 8_000));
    const report = await load.stop();
    console.warn(`[real-pods tests] rolling update under load: ${formatLoad(report)}`);

    expect(result.summary.result).toBe("succeeded");
    const after = (await fx.stack.outputs()).images.value as { web: string };
    expect(after.web).not.toBe(before.web);
    for (const p of pods("web")) expect(p.spec.containers[0].image).toBe(after.web);
    expect(report.sent).toBeGreaterThan(100);
    expect(report.failuresByReason).toEqual({});
    expect(report.failed).toBe(0);
  });
});
