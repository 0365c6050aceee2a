/**
 * The monkeytown CrossGuard pack. Run it with
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json
 * (install its dependencies first: `npm ci` in policy/). The rules live in ./policies.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("monkeytown", {
  description:
    "Monkeytown workload hardening (non-root, limits, no plaintext secrets, PSS restricted), image pinning, availability and network coverage.",
  displayName: "Monkeytown",
  enforcementLevel: "advisory",
  tags: ["kubernetes", "docker", "github", "security"],
  policies,
});
