// Preload (`node -r`) for bench/pack-startup.ts: attributes the policy pack process's start-up, up
// to the moment it prints the port it serves on, to what it loads. Every require() is timed (wall
// and CPU), its own share (minus the modules it loads in turn) is added to a category by file, and
// when the port is written the totals go to $PACK_STARTUP_FILE as JSON.
"use strict";
const fs = require("fs");
const Module = require("module");

const startedMs = process.uptime() * 1000; // Node.js's own start, before any JavaScript of ours
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const cpuMs = () => {
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1000;
};
const wallMs = () => Number(process.hrtime.bigint() - t0) / 1e6;

const TYPESCRIPT = "TypeScript and ts-node (registered by run-policy-pack)";
const GRPC = "gRPC (@grpc/grpc-js, protobuf, the SDK's generated protos)";
const POLICY = "@pulumi/policy";
const PACK = "the pack's own files (rules, lib, entry point)";
const K8S = "@pulumi/kubernetes and what it loads";
const ROOT =
  "@pulumi/pulumi's root module and what it loads (Automation API, closure serializer, npm tooling)";
const RUNNER =
  "the SDK's runner and runtime (run-policy-pack, log, settings, OpenTelemetry, js-yaml, semver, source maps)";
const totals = new Map(
  [TYPESCRIPT, GRPC, POLICY, PACK, K8S, ROOT, RUNNER].map((name) => [
    name,
    { wallMs: 0, cpuMs: 0, modules: 0 },
  ]),
);

/** A file's own category, or undefined when it belongs to whoever loads it. */
function ownCategory(file) {
  if (/node_modules\/typescript\/|\/vendor\/ts-node@/.test(file)) return TYPESCRIPT;
  if (/node_modules\/(@grpc\/|@js-sdsl\/|google-protobuf\/)|@pulumi\/pulumi\/proto\//.test(file))
    return GRPC;
  if (/node_modules\/@pulumi\/policy\//.test(file)) return POLICY;
  if (/node_modules\/@pulumi\/kubernetes\//.test(file)) return K8S;
  if (/node_modules\/@pulumi\/pulumi\/index\.js$/.test(file)) return ROOT;
  if (!file.includes("node_modules/")) return PACK;
  return undefined;
}

const originalLoad = Module._load;
const stack = [];
Module._load = function (request, parent, isMain) {
  if (request.startsWith("node:") || Module.builtinModules.includes(request)) {
    return originalLoad.apply(this, arguments);
  }
  let file = request;
  try {
    file = Module._resolveFilename(request, parent, isMain);
  } catch {
    // Let the real loader report it.
  }
  const cached = Module._cache[file] !== undefined;
  const parentCategory = stack.length > 0 ? stack[stack.length - 1].category : undefined;
  const category =
    ownCategory(file) ??
    (parentCategory === K8S || parentCategory === ROOT ? parentCategory : RUNNER);
  const frame = { category, wall: wallMs(), cpu: cpuMs(), childWall: 0, childCpu: 0 };
  stack.push(frame);
  try {
    return originalLoad.apply(this, arguments);
  } finally {
    stack.pop();
    const wall = wallMs() - frame.wall;
    const cpu = cpuMs() - frame.cpu;
    const parentFrame = stack[stack.length - 1];
    if (parentFrame) {
      parentFrame.childWall += wall;
      parentFrame.childCpu += cpu;
    }
    const t = totals.get(category);
    t.wallMs += wall - frame.childWall;
    t.cpuMs += cpu - frame.childCpu;
    if (!cached) t.modules += 1;
  }
};

const file = process.env.PACK_STARTUP_FILE;
const write = process.stdout.write.bind(process.stdout);
let recorded = false;
process.stdout.write = (...args) => {
  if (!recorded && file) {
    recorded = true;
    const result = {
      nodeStartMs: startedMs,
      toPortWallMs: wallMs(),
      toPortCpuMs: cpuMs(),
      categories: Object.fromEntries(totals),
    };
    fs.writeFileSync(file, JSON.stringify(result));
  }
  return write(...args);
};
