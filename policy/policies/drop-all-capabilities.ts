import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

export interface DropAllCapabilitiesConfig {
  /** Capabilities a container may add back after dropping ALL. */
  allowedAddCapabilities: string[];
}

const WHY =
  "Container runtimes grant a default set of capabilities (NET_RAW, CHOWN, SETUID, ...) that a web or API process never needs and an attacker can use (NET_RAW enables ARP/DNS spoofing on the node network).";

/** Upper-case, without the CAP_ prefix that Docker accepts. */
function canonical(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, "");
}

/**
 * Every container drops ALL capabilities and adds back only allowed ones (default:
 * NET_BIND_SERVICE, as Pod Security "restricted" allows).
 */
export function dropAllCapabilities() {
  return workloadRule<DropAllCapabilitiesConfig>({
    name: "drop-all-capabilities",
    description: "Containers drop ALL capabilities and add none but the allowed ones.",
    checks:
      "`capabilities.drop` contains ALL; `add` only from the allowed set. Docker: `capabilities.drops`/`adds`.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "kube-score (none); Polaris dangerousCapabilities, insecureCapabilities; kubesec CapDropAll, CapSysAdmin; Kyverno PSS restricted disallow-capabilities-strict, PSS baseline disallow-capabilities; checkov CKV_K8S_25, CKV_K8S_28, CKV_K8S_37, CKV_K8S_39",
    remediationSteps:
      'Set securityContext.capabilities: { drop: ["ALL"] } and add back only NET_BIND_SERVICE if a port below 1024 is needed.',
    configSchema: configSchema({
      allowedAddCapabilities: {
        type: "array",
        items: { type: "string" },
        default: ["NET_BIND_SERVICE"],
        description: "Capabilities that may be added back after dropping ALL.",
      },
    }),
    workload(w, config, report) {
      if (w.containers === UNKNOWN) return;
      const allowed = new Set(config.allowedAddCapabilities.map(canonical));
      for (const c of w.containers) {
        const { capabilitiesDrop: drop, capabilitiesAdd: add } = c.securityContext;
        const where = describeContainer(w, c);
        if (drop !== UNKNOWN && !drop.some((d) => canonical(d) === "ALL")) {
          report(
            `${where} does not drop ALL capabilities. ${WHY} Fix: set securityContext.capabilities.drop: ["ALL"].`,
          );
        }
        if (add !== UNKNOWN) {
          const bad = add.filter((a) => !allowed.has(canonical(a)));
          if (bad.length > 0) {
            report(
              `${where} adds capabilities ${bad.map((b) => `"${b}"`).join(", ")}, outside the allowed set [${[...allowed].join(", ")}]. Extra capabilities widen what a compromised process can do to the node. Fix: remove them from securityContext.capabilities.add.`,
            );
          }
        }
      }
    },
    docker(c, config, report) {
      const allowed = new Set(config.allowedAddCapabilities.map(canonical));
      if (c.capDrop !== UNKNOWN && !c.capDrop.some((d) => canonical(d) === "ALL")) {
        report(
          `${describeDocker(c)} does not drop ALL capabilities. ${WHY} Fix: set capabilities: { drops: ["ALL"] }.`,
        );
      }
      if (c.capAdd !== UNKNOWN) {
        const bad = c.capAdd.filter((a) => !allowed.has(canonical(a)));
        if (bad.length > 0) {
          report(
            `${describeDocker(c)} adds capabilities ${bad.map((b) => `"${b}"`).join(", ")}, outside the allowed set. Fix: remove them from capabilities.adds.`,
          );
        }
      }
    },
  });
}
