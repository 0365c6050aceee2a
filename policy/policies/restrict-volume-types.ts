import { configSchema, workloadRule } from "../lib/rule";
import { UNKNOWN, str } from "../lib/values";
import { describeWorkload, podVolumes } from "../lib/workload";

export interface RestrictVolumeTypesConfig {
  /** Volume sources a pod may use (hostPath is `no-host-access`'s, see below). */
  allowedVolumeTypes: string[];
}

/** The volume sources Pod Security "restricted" allows. */
export const RESTRICTED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/** Owned by `no-host-access`, with its `allowedHostPaths`: one finding per hostPath, one switch. */
const HOST_PATH = "hostPath";

/**
 * Every pod volume uses an allowed source (Pod Security restricted "Volume Types"): in-tree
 * network and cloud volumes (nfs, iscsi, awsElasticBlockStore, gitRepo ...) mount storage from the
 * node, outside the PersistentVolume / StorageClass review. hostPath is left to `no-host-access`.
 */
export function restrictVolumeTypes() {
  return workloadRule<RestrictVolumeTypesConfig>({
    name: "restrict-volume-types",
    description: "Pods use only the volume types Pod Security restricted allows.",
    checks:
      "Every pod volume uses an allowed source (default: Pod Security restricted's `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `persistentVolumeClaim`, `projected`, `secret`). `hostPath` is left to `no-host-access` and its `allowedHostPaths`, so each host mount is one finding with one switch.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "Kyverno PSS restricted restrict-volume-types; Pod Security admission restricted (volume types); kube-score, Polaris, kubesec, checkov: none (hostPath: see no-host-access)",
    remediationSteps:
      "Use a PersistentVolumeClaim (the storage is then declared by a PersistentVolume or StorageClass), or configMap, secret, projected, emptyDir or CSI.",
    configSchema: configSchema({
      allowedVolumeTypes: {
        type: "array",
        items: { type: "string" },
        default: RESTRICTED_VOLUME_TYPES,
        description:
          "Volume sources a pod may use (default: Pod Security restricted). hostPath is checked by no-host-access.",
      },
    }),
    workload(w, config, report) {
      const vols = podVolumes(w);
      if (vols === UNKNOWN) return;
      for (const v of vols) {
        for (const key of Object.keys(v)) {
          if (key === "name" || key === HOST_PATH || v[key] === undefined || v[key] === null)
            continue;
          if (config.allowedVolumeTypes.includes(key)) continue;
          const name = str(v["name"]);
          report(
            `${describeWorkload(w)} uses a ${key} volume ("${typeof name === "string" ? name : "?"}"). Pod Security restricted allows only ${config.allowedVolumeTypes.join(", ")}: other in-tree sources mount network or cloud storage from the node, outside the PersistentVolume and StorageClass review, and some (gitRepo) run tools on the node. Fix: use a PersistentVolumeClaim backed by a PersistentVolume or StorageClass, or add ${key} to allowedVolumeTypes if it is reviewed.`,
          );
        }
      }
    },
  });
}
