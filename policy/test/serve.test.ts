/**
 * The pack as the engine sees it: `policy/` is started the way the Node.js language host starts a
 * policy pack (`@pulumi/pulumi/cmd/run-policy-pack`, which compiles the TypeScript with ts-node and
 * type-checks it), and the test talks to it over the analyzer gRPC protocol (GetAnalyzerInfo,
 * Configure, Analyze), which is what `pulumi preview --policy-pack policy` does. This covers what
 * the unit tests cannot: that the pack loads and serves, and that the engine's (de)serialization and
 * proxies reach the rules as expected.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyNames } from "../policies";
import { hardenedContainer, hardenedPodSpec, workload } from "./helpers";

const PACK_DIR = path.join(__dirname, "..");
// The runner of the @pulumi/pulumi the pack itself resolves (policy/node_modules when installed).
const RUN_POLICY_PACK = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", {
  paths: [PACK_DIR],
});
let pack: ChildProcess | undefined;
let client: analyzerRpc.AnalyzerClient;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-serve-"));
// Every module the pack had loaded when it printed its port (test/loaded-modules.js).
const LOADED_MODULES_FILE = path.join(tmp, "loaded-modules.json");

function call<Req, Res>(
  fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

beforeAll(async () => {
  // Arguments as the language host passes them: an engine address (unused by a pack) and the program.
  const recorder = path.join(__dirname, "loaded-modules.js");
  const child = spawn(process.execPath, ["-r", recorder, RUN_POLICY_PACK, "127.0.0.1:0", "."], {
    cwd: PACK_DIR,
    env: { ...process.env, LOADED_MODULES_FILE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  pack = child;
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      const m = /^(\d+)\s*$/m.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) =>
      reject(new Error(`the pack exited (${code}) before serving: ${stderr}`)),
    );
  });
  client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client?.close();
  pack?.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function analyzeRequest(type: string, name: string, props: Record<string, unknown>) {
  const req = new analyzer.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:test::monkeytown::${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props as never));
  req.setOptions(new analyzer.AnalyzerResourceOptions());
  return req;
}

async function analyzeResponse(type: string, name: string, props: Record<string, unknown>) {
  return call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(
    client.analyze,
    analyzeRequest(type, name, props),
  );
}

async function analyze(type: string, name: string, props: Record<string, unknown>) {
  const res = await analyzeResponse(type, name, props);
  return res.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    level: d.getEnforcementlevel(),
    message: d.getMessage(),
  }));
}

describe("the served pack", () => {
  it("announces every policy with its default enforcement level", async () => {
    const info = await call<Empty, analyzer.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    expect(info.getName()).toBe("monkeytown");
    expect(info.getVersion()).toBe("0.1.0");
    const byName = new Map(
      info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]),
    );
    expect([...byName.keys()]).toEqual([...policyNames]);
    expect(byName.get("non-root")).toBe(analyzer.EnforcementLevel.MANDATORY);
    expect(byName.get("no-privileged")).toBe(analyzer.EnforcementLevel.ADVISORY);
  });

  it("analyzes a resource sent over the wire, unknowns included, and applies config sent by Configure", async () => {
    const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const d = workload(
      "Deployment",
      hardenedPodSpec({
        containers: [
          {
            ...hardenedContainer(),
            image: "ghcr.io/monkeytown/web:1.0.0",
            securityContext: { ...hardenedContainer().securityContext, runAsUser: 0 },
          },
          { ...hardenedContainer("sidecar"), image: unknownString },
        ],
      }),
    );
    const before = await analyze(d.type, d.name, d.props);
    expect(before.map((x) => x.policy)).toEqual(["non-root"]);
    expect(before[0].message).toMatch(/container "web" sets securityContext.runAsUser: 0/);

    const config = new analyzer.ConfigureAnalyzerRequest();
    const pinned = new analyzer.PolicyConfig();
    pinned.setEnforcementlevel(analyzer.EnforcementLevel.MANDATORY);
    pinned.setProperties(Struct.fromJavaScript({ requireDigest: true, allowedImagePrefixes: [] }));
    config.getPolicyconfigMap().set("image-pinned", pinned);
    await call<analyzer.ConfigureAnalyzerRequest, Empty>(client.configure, config);

    const after = await analyze(d.type, d.name, d.props);
    expect(after.map((x) => [x.policy, x.level])).toEqual([
      ["non-root", analyzer.EnforcementLevel.MANDATORY],
      ["image-pinned", analyzer.EnforcementLevel.MANDATORY],
    ]);
    expect(after[1].message).toMatch(
      /container "web": image "ghcr.io\/monkeytown\/web:1.0.0" is not pinned by digest/,
    );
  });
});

describe("rules bound to one resource type (by type token, without loading @pulumi/kubernetes)", () => {
  it("no-load-balancer flags a LoadBalancer Service and reports itself not applicable to a Deployment", async () => {
    const service = await analyze("kubernetes:core/v1:Service", "public", {
      metadata: { name: "public", namespace: "monkeytown" },
      spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    expect(service.filter((d) => d.policy === "no-load-balancer")).toEqual([
      {
        policy: "no-load-balancer",
        level: analyzer.EnforcementLevel.ADVISORY,
        message: expect.stringMatching(/\nService "public" is type LoadBalancer, which opens a port/),
      },
    ]);
    const d = workload("Deployment", hardenedPodSpec());
    const res = await analyzeResponse(d.type, d.name, d.props);
    const notApplicable = res.getNotApplicableList().map((n) => [n.getPolicyName(), n.getReason()]);
    expect(notApplicable).toContainEqual([
      "no-load-balancer",
      "Policy only applies to resources of type 'kubernetes:core/v1:Service'",
    ]);
  });

  it("secret-data-as-pulumi-secret wraps a Secret's plaintext value as a Pulumi secret", async () => {
    const req = analyzeRequest("kubernetes:core/v1:Secret", "api", {
      metadata: { name: "api" },
      stringData: { password: "hunter2hunter2" },
    });
    const res = await call<analyzer.AnalyzeRequest, analyzer.RemediateResponse>(
      client.remediate,
      req,
    );
    const remediations = res.getRemediationsList();
    expect(remediations.map((r) => r.getPolicyname())).toEqual(["secret-data-as-pulumi-secret"]);
    expect(remediations[0].getProperties()?.toJavaScript()).toEqual({
      metadata: { name: "api" },
      stringData: {
        password: {
          "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
          value: "hunter2hunter2",
        },
      },
    });
  });
});

describe("start-up", () => {
  it("serves without loading @pulumi/kubernetes, the SDK's Automation API or npm's tooling", () => {
    const loaded: string[] = JSON.parse(fs.readFileSync(LOADED_MODULES_FILE, "utf8"));
    // The recording is real: the pack and its server were loaded when the port was printed.
    expect(loaded.some((f) => f.endsWith(path.join("@pulumi", "policy", "server.js")))).toBe(true);
    expect(loaded).toContain(path.join(PACK_DIR, "main.js"));
    const heavy = loaded.filter((f) =>
      /node_modules\/(@pulumi\/kubernetes|@pulumi\/pulumi\/automation|@npmcli\/arborist|pacote|sigstore)\//.test(
        f,
      ),
    );
    expect(heavy).toEqual([]);
  });

  it("the lazy SDK root answers asset and Output with the SDK's own objects, and loads the real root for anything else", () => {
    const script = `
      const path = require("path");
      const { createRequire } = require("module");
      const policyDir = path.dirname(require.resolve("@pulumi/policy"));
      const r = createRequire(path.join(policyDir, "index.js"));
      const installed = require("./lazy-sdk-root").installLazySdkRoot(policyDir);
      require("@pulumi/policy");
      const arborist = () => Object.keys(require.cache).some((f) => f.includes("@npmcli/arborist"));
      const root = r("@pulumi/pulumi");
      const out = { installed: installed === r.resolve("@pulumi/pulumi"), arboristAtServe: arborist() };
      out.asset = root.asset === r("@pulumi/pulumi/asset");
      out.output = root.Output === r("@pulumi/pulumi/output").Output;
      out.arboristAfterDirect = arborist();
      out.config = root.Config === r("@pulumi/pulumi/config").Config;
      out.arboristAfterConfig = arborist();
      out.realRootCached = r("@pulumi/pulumi") !== root && r("@pulumi/pulumi").Config === root.Config;
      out.automation = Object.keys(root).includes("automation");
      console.log(JSON.stringify(out));
    `;
    const out = JSON.parse(
      execFileSync(process.execPath, ["-e", script], { cwd: PACK_DIR, encoding: "utf8" }),
    );
    expect(out).toEqual({
      installed: true,
      arboristAtServe: false,
      asset: true,
      output: true,
      arboristAfterDirect: false,
      config: true,
      arboristAfterConfig: true,
      realRootCached: true,
      automation: true,
    });
  });
});
