/** Where cluster/up.sh keeps the local cluster (cluster/lib.sh: CLUSTER_STATE). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function clusterStateDir(): string {
  return (
    process.env.MONKEYTOWN_CLUSTER_STATE ??
    path.join(os.homedir(), ".local", "state", "monkeytown-cluster")
  );
}

/** The local cluster's kubeconfig, written by cluster/up.sh. */
export function localKubeconfig(): string {
  return path.join(clusterStateDir(), "kubeconfig");
}

/**
 * The directory of the local cluster's binaries (cluster/build.sh links them there), when built:
 * its kubectl matches the cluster's version and is what the stacks' preflight should run.
 */
export function clusterBinDir(): string | undefined {
  const cache =
    process.env.MONKEYTOWN_CLUSTER_CACHE ?? path.join(os.homedir(), ".cache", "monkeytown-cluster");
  const bin = path.join(cache, "bin");
  return fs.existsSync(path.join(bin, "kubectl")) ? bin : undefined;
}
