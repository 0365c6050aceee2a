/**
 * The real node's image builder (cluster/images/builder.sh) and the docker-build provider, for
 * everything that builds our images on the local cluster: `cluster:deploy --real-node`, the live
 * tests of our pods (test/cluster/real-pods.test.ts) and the zero-downtime benchmark.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { REPO_ROOT, parseImageBuilder, type ImageBuilder } from "./workspace";

const BUILDER_SH = path.join(REPO_ROOT, "cluster", "images", "builder.sh");
const BUILD_TOOLS_SH = path.join(REPO_ROOT, "cluster", "images", "build-tools.sh");

function builderEnv(): { status: number | null; stdout: string } {
  const r = spawnSync("bash", [BUILDER_SH, "env"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { status: r.status, stdout: r.stdout ?? "" };
}

/**
 * The builder's settings: the local registry on loopback, buildkitd on the node's containerd and
 * the local base images. Started when it is not running (the node's `down` stops it); throws
 * saying how to start the node when it cannot start.
 */
export function ensureImageBuilder(say: (message: string) => void = () => {}): ImageBuilder {
  let settings = builderEnv();
  if (settings.status !== 0) {
    say("starting the image builder (local registry and buildkitd on the real node)");
    const up = spawnSync("bash", [BUILDER_SH, "up"], { stdio: ["ignore", "inherit", "inherit"] });
    if (up.status !== 0) {
      throw new Error(
        "the image builder did not start (see above); it runs on the real node: `npm run cluster:up -- --real-node`",
      );
    }
    settings = builderEnv();
  }
  if (settings.status !== 0) throw new Error("the image builder does not report its settings");
  try {
    return parseImageBuilder(settings.stdout);
  } catch (e) {
    throw new Error(`${(e as Error).message} (cluster/images/builder.sh env)`);
  }
}

/**
 * Builds (or finds) the docker-build provider and links it where the engine of `pulumiHome` looks
 * for plugins (default: the user's PULUMI_HOME). Throws when it cannot be built.
 */
export function ensureDockerBuildPlugin(pulumiHome?: string): void {
  const r = spawnSync("bash", [BUILD_TOOLS_SH, "--only", "docker-build"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...(pulumiHome ? { PULUMI_HOME: pulumiHome } : {}) },
  });
  if (r.status !== 0) throw new Error("the docker-build provider is not available (see above)");
}
