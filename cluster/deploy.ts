/**
 * `npm run cluster:deploy -- <staging|production> [up|preview|refresh|destroy|unprotect] [--real-node] [pulumi flags...]`
 *
 * `--real-node` (with `cluster:up -- --real-node`): the images are built from this repository's
 * Dockerfiles by the program's Registry component (docker-build) with the real node's builder, on
 * the local base images, and pushed to the local registry in place of GHCR (cluster/images/builder.sh;
 * `realNodeOverrides` in cluster/workspace.ts says exactly what changes).
 *
 * `unprotect` clears the protection of every resource in the stack's state (production protects its
 * namespace and secrets), so that `destroy` can then remove it.
 *
 * Deploys a stack's shape (its own configuration, components and policy config, mandatory rules
 * enforced) to the cluster of KUBECONFIG: the local cluster of `npm run cluster:up` when KUBECONFIG
 * is unset, or any cluster a user points it at (kind, minikube, ...). Only the stack's override file
 * (`cluster/overrides/<stack>.yaml`) changes what runs. State lives in a local file backend under
 * `.cluster/backend/<cluster>/` (one per cluster), secrets under a throwaway passphrase.
 */
import { spawnSync, type SpawnSyncOptions } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  CLUSTER_PASSPHRASE,
  CLUSTER_STACKS,
  REPO_ROOT,
  clusterKey,
  pinnedColours,
  prepareWorkspace,
  realNodePolicyConfig,
  type ClusterStack,
  type ImageBuilder,
} from "./workspace";
import { clusterBinDir, localKubeconfig } from "./local";
import { ensureDockerBuildPlugin, ensureImageBuilder } from "./image-builder";

const ACTIONS = ["up", "preview", "refresh", "destroy", "unprotect"] as const;
type Action = (typeof ACTIONS)[number];

function fail(message: string): never {
  console.error(`cluster:deploy: ERROR: ${message}`);
  process.exit(1);
}

function say(message: string): void {
  console.error(`cluster:deploy: ${message}`);
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): number {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

function main(argv: string[]): number {
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  const realNode = args.includes("--real-node");
  const [stack, actionArg, ...extra] = args.filter((a) => a !== "--real-node");
  if (!CLUSTER_STACKS.includes(stack as ClusterStack)) {
    fail(
      `usage: npm run cluster:deploy -- <${CLUSTER_STACKS.join("|")}> [${ACTIONS.join("|")}] [pulumi flags]` +
        (stack ? ` (unknown stack "${stack}")` : ""),
    );
  }
  const action = (actionArg ?? "up") as Action;
  if (!ACTIONS.includes(action))
    fail(`unknown action "${actionArg}": one of ${ACTIONS.join(", ")}`);

  const kubeconfig = process.env.KUBECONFIG ?? localKubeconfig();
  if (!fs.existsSync(kubeconfig)) {
    fail(
      `no cluster: ${kubeconfig} does not exist. Start the local one with \`npm run cluster:up\`, ` +
        "or point KUBECONFIG at the cluster to deploy to.",
    );
  }
  const key = clusterKey(fs.readFileSync(kubeconfig.split(path.delimiter)[0], "utf8"));

  if (run("bash", [path.join(REPO_ROOT, "scripts", "ensure-deps.sh")]) !== 0) {
    fail("installing the npm dependencies failed (see above)");
  }
  const toolchain = spawnSync("bash", [path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, PULUMI_TOOLCHAIN_LINK_PLUGINS: "1" },
  });
  const pathLine = /^export PATH=(.*)$/m.exec(toolchain.stdout ?? "");
  if (toolchain.status !== 0 || !pathLine) {
    fail("the Pulumi toolchain is not available (see above; `npm run toolchain` builds it)");
  }
  // The toolchain prints a shell-quoted PATH; resolve the quoting with bash itself.
  const toolPath = spawnSync("bash", ["-c", `printf %s ${pathLine[1]}`], {
    encoding: "utf8",
  }).stdout;

  let builder: ImageBuilder | undefined;
  if (realNode) {
    try {
      builder = ensureImageBuilder(say);
      // docker-build's provider, where the engine finds it (built offline on first use).
      ensureDockerBuildPlugin();
    } catch (e) {
      fail(`--real-node: ${(e as Error).message}`);
    }
  }

  const root = path.join(REPO_ROOT, ".cluster");
  const ws = prepareWorkspace(stack as ClusterStack, root, builder);
  let policyConfig = path.join(REPO_ROOT, "policy", "config", `${stack}.json`);
  if (builder) {
    policyConfig = path.join(ws.dir, `policy-config.${stack}.json`);
    const own = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${stack}.json`), "utf8"),
    ) as Record<string, unknown>;
    fs.writeFileSync(policyConfig, JSON.stringify(realNodePolicyConfig(own, builder), null, 2));
  }
  const backend = path.join(root, "backend", key);
  fs.mkdirSync(backend, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The stacks' preflight runs kubectl: the local cluster's own when it is built.
    PATH: [clusterBinDir(), toolPath].filter(Boolean).join(path.delimiter),
    KUBECONFIG: kubeconfig,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: CLUSTER_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
    // docker-build finds the node's builder in the Docker config it is registered in.
    ...(builder ? { DOCKER_CONFIG: builder.dockerConfig } : {}),
  };
  const common = ["--stack", stack, "--cwd", ws.dir, "--non-interactive"];
  say(`stack ${stack} on the cluster of ${kubeconfig} (state: ${backend})`);
  if (builder) {
    say(
      `--real-node: images built with builder ${builder.builder} and pushed to ${builder.registry} (base images ${builder.baseImages.nginx}, ${builder.baseImages.node})`,
    );
  }

  if (
    run("pulumi", ["stack", "select", "--create", "--secrets-provider", "passphrase", ...common], {
      env,
    }) !== 0
  ) {
    fail("could not create or select the stack");
  }
  for (const [k, value] of Object.entries(ws.missingSecrets)) {
    const r = spawnSync("pulumi", ["config", "set", "--secret", k, ...common], {
      env,
      input: value,
      stdio: ["pipe", "ignore", "inherit"],
    });
    if (r.status !== 0) fail(`could not set the throwaway secret ${k}`);
  }

  // As the deploy workflow does: keep each blue-green colour at what runs unless told otherwise.
  const outputs = spawnSync("pulumi", ["stack", "output", "--json", ...common], {
    env,
    encoding: "utf8",
  });
  if (outputs.status === 0 && outputs.stdout.trim() !== "") {
    for (const [k, value] of Object.entries(pinnedColours(JSON.parse(outputs.stdout)))) {
      if (run("pulumi", ["config", "set", "--path", k, value, ...common], { env }) !== 0) {
        fail(`could not pin ${k}`);
      }
    }
  }

  const policy =
    action === "up" || action === "preview"
      ? ["--policy-pack", path.join(REPO_ROOT, "policy"), "--policy-pack-config", policyConfig]
      : [];
  if (action === "unprotect") {
    return run("pulumi", ["state", "unprotect", "--all", "--yes", ...common, ...extra], { env });
  }
  const yes = action === "preview" ? [] : ["--yes"];
  return run("pulumi", [action, ...yes, ...common, ...policy, ...extra], { env });
}

process.exit(main(process.argv.slice(2)));
