/**
 * The pack as the engine sees it: `policy/` is started the way the Node.js language host starts a
 * policy pack (`@pulumi/pulumi/cmd/run-policy-pack`, which compiles the TypeScript with ts-node and
 * type-checks it), and the test talks to it over the analyzer gRPC protocol (GetAnalyzerInfo,
 * Configure, Analyze), which is what `pulumi preview --policy-pack policy` does. This covers what
 * the unit tests cannot: that the pack loads and serves, and that the engine's (de)serialization and
 * proxies reach the rules as expected.
 */
import { ChildProcess, spawn } from "child_process";
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
  const child = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:0", "."], {
    cwd: PACK_DIR,
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
});

async function analyze(type: string, name: string, props: Record<string, unknown>) {
  const req = new analyzer.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:test::monkeytown::${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props as never));
  req.setOptions(new analyzer.AnalyzerResourceOptions());
  const res = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(client.analyze, req);
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
