// A lazy `@pulumi/pulumi` root module for the pack's process (installed by main.js).
//
// @pulumi/policy's server reads two names from the SDK's root module, `asset` and `Output`
// (@pulumi/policy/deserialize.js). The root module itself loads everything eagerly, the Automation
// API and the closure serializer included, and they pull in @npmcli/arborist, pacote, sigstore,
// tuf-js and more: about 0.4 s of the pack's start-up on every preview, for code a policy pack never
// runs (docs/engine.md, "Policy pack start-up"). The stand-in registered here answers those two
// names from their own modules, which are the very objects the root re-exports, and loads the real
// root the first time anything else is asked of it, so code that needs more gets exactly what it
// would have got, only later.
"use strict";
const Module = require("module");
const path = require("path");

/** Names answered without loading the root: the module each one lives in, and its export. */
const DIRECT = {
  asset: ["asset", undefined],
  Output: ["output", "Output"],
};

/**
 * Registers the stand-in for the `@pulumi/pulumi` that code in `fromDir` resolves, unless that
 * root is loaded already. Returns the root's file name, or undefined when nothing was registered.
 */
function installLazySdkRoot(fromDir) {
  const req = Module.createRequire(path.join(fromDir, "noop.js"));
  const rootPath = req.resolve("@pulumi/pulumi");
  if (require.cache[rootPath] !== undefined) return undefined;
  let real;
  const load = () => {
    if (real === undefined) {
      // Drop the stand-in so that the real root (and its own circular imports of itself) load.
      if (require.cache[rootPath] === standIn) delete require.cache[rootPath];
      real = req(rootPath);
    }
    return real;
  };
  const direct = (name) => {
    const [file, member] = DIRECT[name];
    const mod = req(`@pulumi/pulumi/${file}`);
    return member === undefined ? mod : mod[member];
  };
  const standIn = new Module(rootPath, module);
  standIn.filename = rootPath;
  standIn.paths = Module._nodeModulePaths(path.dirname(rootPath));
  standIn.loaded = true;
  standIn.exports = new Proxy(
    {},
    {
      get: (_, name) => {
        if (real === undefined && name === "__esModule") return true;
        if (real === undefined && Object.prototype.hasOwnProperty.call(DIRECT, name)) {
          return direct(name);
        }
        return load()[name];
      },
      set: (_, name, value) => Reflect.set(load(), name, value),
      has: (_, name) => name in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, name) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), name);
        return d === undefined ? undefined : { ...d, configurable: true };
      },
    },
  );
  require.cache[rootPath] = standIn;
  return rootPath;
}

module.exports = { installLazySdkRoot };
