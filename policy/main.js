// Entry point of the pack (package.json "main"). The engine's run-policy-pack type-checks
// TypeScript with ts-node at every cold start (about 4 s here); `npm run build` in policy/
// precompiles the pack to bin/ instead. This file runs bin/ when it is at least as new as every
// source file, and the TypeScript sources otherwise (ts-node is registered by run-policy-pack), so
// an edited rule is never shadowed by a stale build.
"use strict";
const fs = require("fs");
const path = require("path");

const STAMP = path.join(__dirname, "bin", "index.js");
const SOURCES = ["index.ts", "policies", "lib"];

function newestSource(entry) {
  const full = path.join(__dirname, entry);
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return full.endsWith(".ts") ? stat.mtimeMs : 0;
  return Math.max(0, ...fs.readdirSync(full).map((name) => newestSource(path.join(entry, name))));
}

function buildIsFresh() {
  try {
    const built = fs.statSync(STAMP).mtimeMs;
    return SOURCES.every((entry) => newestSource(entry) <= built);
  } catch {
    return false;
  }
}

// @pulumi/policy needs two names of @pulumi/pulumi's root module, which loads the whole SDK
// (Automation API, closure serializer, npm's arborist): serve them lazily (lazy-sdk-root.js).
require("./lazy-sdk-root").installLazySdkRoot(path.dirname(require.resolve("@pulumi/policy")));

require(buildIsFresh() ? STAMP : "./index.ts");
