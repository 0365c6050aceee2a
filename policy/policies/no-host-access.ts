import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN, field, items, num, obj, str } from "../lib/values";
import { describeContainer, describeWorkload, podFlag, podVolumes } from "../lib/workload";

export interface NoHostAccessConfig {
  /** Host path prefixes that may be mounted (read-only mounts of e.g. /etc/ssl/certs). */
  allowedHostPaths: string[];
  /** Allow `hostPort` on container ports. */
  allowHostPorts: boolean;
}

function pathAllowed(path: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => path === a || path.startsWith(a.endsWith("/") ? a : `${a}/`));
}

/**
 * No host namespaces (`hostNetwork`, `hostPID`, `hostIPC`), no `hostPath` volumes outside an
 * allowlist, and no `hostPort`. Docker: no `host` network/PID/IPC mode, no bind mounts of host paths.
 */
export function noHostAccess() {
  return workloadRule<NoHostAccessConfig>({
    name: "no-host-access",
    description: "Pods share no host namespace, mount no host path and bind no host port.",
    checks:
      "No `hostNetwork`, `hostPID`, `hostIPC`, `hostPath` (outside an allowlist) or `hostPort`. Docker: no `host` network/PID/IPC mode, no host bind mounts.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "kube-score (none); Polaris hostNetworkSet, hostPIDSet, hostIPCSet, hostPathSet, hostPortSet; kubesec HostNetwork, HostPID, HostIPC, HostPathVolume; Kyverno PSS baseline disallow-host-namespaces, disallow-host-path, disallow-host-ports; checkov CKV_K8S_17-19, CKV_K8S_26, CKV_K8S_27 (docker socket)",
    remediationSteps:
      "Remove hostNetwork/hostPID/hostIPC and hostPort; replace hostPath volumes with emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim.",
    configSchema: configSchema({
      allowedHostPaths: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Host path prefixes that may be mounted.",
      },
      allowHostPorts: {
        type: "boolean",
        default: false,
        description: "Allow hostPort on container ports.",
      },
    }),
    workload(w, config, report) {
      for (const [flag, what] of [
        [
          "hostNetwork",
          "the node's network namespace: it can sniff and bind every node interface and reach services bound to localhost",
        ],
        [
          "hostPID",
          "the node's process namespace: it can see and signal every process on the node",
        ],
        ["hostIPC", "the node's IPC namespace: it can read other processes' shared memory"],
      ] as const) {
        if (podFlag(w, flag) === true) {
          report(
            `${describeWorkload(w)} sets ${flag}: true and shares ${what}. Fix: remove spec.${flag}.`,
          );
        }
      }
      const vols = podVolumes(w);
      if (vols !== UNKNOWN) {
        for (const v of vols) {
          const hp = obj(v["hostPath"]);
          if (hp === undefined) continue;
          const path = hp === UNKNOWN ? UNKNOWN : str(field(hp, "path"));
          if (path === UNKNOWN) continue;
          if (typeof path === "string" && pathAllowed(path, config.allowedHostPaths)) continue;
          const name = str(v["name"]);
          report(
            `${describeWorkload(w)} mounts host path ${typeof path === "string" ? `"${path}"` : "(no path)"} as volume "${typeof name === "string" ? name : "?"}". A hostPath mount exposes the node's filesystem to the pod, and a writable one is a direct route to node compromise. Fix: use emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim, or add the prefix to allowedHostPaths if it is reviewed.`,
          );
        }
      }
      if (config.allowHostPorts || w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        const ports = items(c.spec["ports"]);
        if (ports === UNKNOWN) continue;
        for (const p of ports) {
          const hostPort = num(field(obj(p), "hostPort"));
          if (typeof hostPort === "number" && hostPort !== 0) {
            report(
              `${describeContainer(w, c)} binds hostPort ${hostPort}. A host port ties the pod to one node per port and bypasses NetworkPolicy on many CNIs. Fix: remove hostPort and expose the port through a Service.`,
            );
          }
        }
      }
    },
    docker(c, config, report) {
      for (const [key, mode] of [
        ["networkMode", c.networkMode],
        ["pidMode", c.pidMode],
        ["ipcMode", c.ipcMode],
      ] as const) {
        if (mode === "host") {
          report(
            `${describeDocker(c)} sets ${key}: "host" and shares the host's namespace. Fix: use a user-defined network / the default mode.`,
          );
        }
      }
      if (c.hostPaths === UNKNOWN) return;
      for (const path of c.hostPaths) {
        if (pathAllowed(path, config.allowedHostPaths)) continue;
        report(
          `${describeDocker(c)} bind-mounts host path "${path}". It exposes the host filesystem to the container. Fix: use a named volume, or add the prefix to allowedHostPaths if it is reviewed.`,
        );
      }
    },
  });
}
