/**
 * Every rule of the pack, in one array: `policy/index.ts` serves it, tests and tools import it.
 * Each factory returns a fresh policy object.
 */
import type { Policies } from "@pulumi/policy";
import type { PackPolicy } from "../lib/rule";
import type { PackStackPolicy } from "../lib/stack";
import { disallowHostProcess } from "./disallow-host-process";
import { disallowProcMount } from "./disallow-proc-mount";
import { dropAllCapabilities } from "./drop-all-capabilities";
import { hpaNoFixedReplicas } from "./hpa-no-fixed-replicas";
import { hpaTargetsWorkload } from "./hpa-targets-workload";
import { imagePinned } from "./image-pinned";
import { ingressTargetsService } from "./ingress-targets-service";
import { minReplicas } from "./min-replicas";
import { networkPolicyCoverage } from "./network-policy-coverage";
import { networkPolicyTargetsPods } from "./network-policy-targets-pods";
import { noHostAccess } from "./no-host-access";
import { noLoadBalancer } from "./no-load-balancer";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { noPrivilegeEscalation } from "./no-privilege-escalation";
import { noPrivileged } from "./no-privileged";
import { nonRoot } from "./non-root";
import { pdbBelowMinReplicas } from "./pdb-below-min-replicas";
import { pdbForReplicatedWorkloads } from "./pdb-for-replicated-workloads";
import { pdbTargetsPods } from "./pdb-targets-pods";
import { podMonitorTargetsPods } from "./pod-monitor-targets-pods";
import { probesConfigured } from "./probes-configured";
import { readOnlyRootFilesystem } from "./read-only-root-filesystem";
import { resourceLimits } from "./resource-limits";
import { restrictApparmor } from "./restrict-apparmor";
import { restrictSelinux } from "./restrict-selinux";
import { restrictSysctls } from "./restrict-sysctls";
import { restrictVolumeTypes } from "./restrict-volume-types";
import { seccompRuntimeDefault } from "./seccomp-runtime-default";
import { secretDataAsPulumiSecret } from "./secret-data-as-pulumi-secret";
import { serviceMonitorTargetsService } from "./service-monitor-targets-service";
import { serviceTargetsPods } from "./service-targets-pods";
import { waiverValid } from "./waiver-valid";
import { waiversInEffect } from "./waivers-in-effect";

const rules: (PackPolicy | PackStackPolicy)[] = [
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
  // Stack-level seams: every selector and by-name reference matches a target.
  serviceTargetsPods(),
  serviceMonitorTargetsService(),
  podMonitorTargetsPods(),
  pdbTargetsPods(),
  networkPolicyTargetsPods(),
  hpaTargetsWorkload(),
  ingressTargetsService(),
  // Remediation.
  secretDataAsPulumiSecret(),
];

const ruleNames = rules.map((r) => r.name);

/** Every policy with its documentation, in the pack's order: the README's rule table. */
export const documentedPolicies: readonly (PackPolicy | PackStackPolicy)[] = [
  ...rules,
  waiverValid(ruleNames),
  waiversInEffect(ruleNames),
];

export const policies: Policies = [...documentedPolicies];

/** Names of every policy in the pack. */
export const policyNames: readonly string[] = policies.map((p) => p.name);
