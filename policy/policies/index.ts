/**
 * Every rule of the pack, in one array: `policy/index.ts` serves it, tests and tools import it.
 * Each factory returns a fresh policy object.
 */
import type { Policies } from "@pulumi/policy";
import { disallowHostProcess } from "./disallow-host-process";
import { disallowProcMount } from "./disallow-proc-mount";
import { dropAllCapabilities } from "./drop-all-capabilities";
import { hpaNoFixedReplicas } from "./hpa-no-fixed-replicas";
import { imagePinned } from "./image-pinned";
import { minReplicas } from "./min-replicas";
import { networkPolicyCoverage } from "./network-policy-coverage";
import { noHostAccess } from "./no-host-access";
import { noLoadBalancer } from "./no-load-balancer";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { noPrivilegeEscalation } from "./no-privilege-escalation";
import { noPrivileged } from "./no-privileged";
import { nonRoot } from "./non-root";
import { pdbBelowMinReplicas } from "./pdb-below-min-replicas";
import { pdbForReplicatedWorkloads } from "./pdb-for-replicated-workloads";
import { probesConfigured } from "./probes-configured";
import { readOnlyRootFilesystem } from "./read-only-root-filesystem";
import { resourceLimits } from "./resource-limits";
import { restrictApparmor } from "./restrict-apparmor";
import { restrictSelinux } from "./restrict-selinux";
import { restrictSysctls } from "./restrict-sysctls";
import { restrictVolumeTypes } from "./restrict-volume-types";
import { seccompRuntimeDefault } from "./seccomp-runtime-default";
import { secretDataAsPulumiSecret } from "./secret-data-as-pulumi-secret";
import { waiverValid } from "./waiver-valid";
import { waiversInEffect } from "./waivers-in-effect";

const rules = [
  // Mandatory by default.
  nonRoot(),
  resourceLimits(),
  noPlaintextSecrets(),
  // Advisory by default; per-stack config can make each mandatory.
  readOnlyRootFilesystem(),
  noPrivilegeEscalation(),
  noPrivileged(),
  dropAllCapabilities(),
  noHostAccess(),
  seccompRuntimeDefault(),
  disallowProcMount(),
  restrictSysctls(),
  restrictSelinux(),
  restrictApparmor(),
  disallowHostProcess(),
  restrictVolumeTypes(),
  imagePinned(),
  probesConfigured(),
  noLoadBalancer(),
  // Stack-level.
  minReplicas(),
  pdbForReplicatedWorkloads(),
  networkPolicyCoverage(),
  hpaNoFixedReplicas(),
  pdbBelowMinReplicas(),
  // Remediation.
  secretDataAsPulumiSecret(),
];

const ruleNames = rules.map((r) => r.name);

export const policies: Policies = [...rules, waiverValid(ruleNames), waiversInEffect(ruleNames)];

/** Names of every policy in the pack. */
export const policyNames: readonly string[] = policies.map((p) => p.name);
