import { Secret, remediateResourceOfType } from "@pulumi/policy";
import { K8sSecret } from "../lib/resource-types";
import { PackPolicy } from "../lib/rule";
import { UNKNOWN_SENTINELS, unwrapProxy } from "../lib/values";

/**
 * Remediation: every value in a Kubernetes Secret's `data` and `stringData` becomes a Pulumi
 * secret, so it is encrypted in the state and masked in diffs even when the program passed a plain
 * string. Runs only at enforcement level "remediate" (its default); a value not known yet is left
 * as it is (the remediation runs again during `up`).
 */
export function secretDataAsPulumiSecret(): PackPolicy {
  return {
    name: "secret-data-as-pulumi-secret",
    description: "Kubernetes Secret data is stored as Pulumi secrets (remediation).",
    checks:
      "Wraps every Kubernetes Secret `data`/`stringData` value in a Pulumi secret, so it is encrypted in state even if the program passed a plain string. Runs only at level `remediate`.",
    enforcementLevel: "remediate",
    severity: "high",
    peers: "(Pulumi-specific: peers see manifests, not state)",
    remediationSteps:
      "None: the pack wraps the values. Still, read them with config.requireSecret in the program.",
    remediateResource: remediateResourceOfType(K8sSecret, (_secret, args) => {
      // Reach the deserialized object under both proxies (unknown-checking, secrets-preserving),
      // where values that already are secrets are `Secret` instances.
      const raw = unwrapProxy(unwrapProxy(args.props)) as Record<string, unknown>;
      let changed = false;
      for (const key of ["data", "stringData"]) {
        const m = raw[key];
        if (m === null || typeof m !== "object" || m instanceof Secret || Array.isArray(m))
          continue;
        const map = m as Record<string, unknown>;
        for (const k of Object.keys(map)) {
          const v = map[k];
          if (v instanceof Secret || (typeof v === "string" && UNKNOWN_SENTINELS.has(v))) continue;
          map[k] = new Secret(v);
          changed = true;
        }
      }
      return changed ? raw : undefined;
    }),
  };
}
