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

require(buildIsFresh() ? STAMP : "./index.ts");
