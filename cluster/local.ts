/** Where cluster/up.sh keeps the local cluster (cluster/lib.sh: CLUSTER_STATE). */
import { spawnSync } from "child_process";
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

/** The real node's containerd socket (cluster/lib.sh: CONTAINERD_SOCKET). */
export function realNodeContainerdSocket(): string {
  return path.join(clusterStateDir(), "real-node", "containerd", "containerd.sock");
}

/**
 * The host PID of a container on the real node, from its status' containerID
 * (`containerd://<id>`), as the node's containerd reports it (`ctr task ls`).
 */
export function realNodeContainerPid(containerID: string): number {
  const id = containerID.replace(/^containerd:\/\//, "");
  const r = spawnSync(
    "ctr",
    ["--address", realNodeContainerdSocket(), "-n", "k8s.io", "task", "ls"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`ctr task ls: ${r.stderr || r.error?.message}`);
  const line = r.stdout.split("\n").find((l) => l.startsWith(`${id} `));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no running task for container ${id}`);
  return pid;
}
