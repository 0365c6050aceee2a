import * as docker from "@pulumi/docker";
import { describe, expect, it } from "vitest";
import { parseWaiver } from "../lib/waivers";
import { TestResource, evaluatePolicies, remediate } from "../testing";
import * as k8s from "@pulumi/kubernetes";
import { Secret } from "@pulumi/policy";
import {
  dateIn,
  hardenedContainer,
  hardenedPodSpec,
  resourceOf,
  withSc,
  workload,
} from "./helpers";

const KEY = "policy.monkeytown.dev/waive-no-privileged";

function privileged(annotations: Record<string, string>): TestResource {
  const d = workload(
    "DaemonSet",
    hardenedPodSpec({ containers: [withSc(hardenedContainer(), { privileged: true })] }),
    "node-agent",
  );
  const metadata = { ...(d.props["metadata"] as object), annotations };
  return { ...d, props: { ...d.props, metadata } };
}

async function byPolicy(r: TestResource, config = {}) {
  const v = await evaluatePolicies([r], config);
  const of = (name: string) => v.filter((x) => x.policyName === name).map((x) => x.message);
  return {
    noPrivileged: of("no-privileged"),
    waiverValid: of("waiver-valid"),
    inEffect: of("waivers-in-effect"),
  };
}

describe("waivers", () => {
  it("a valid waiver silences exactly its rule and is listed in the output", async () => {
    const r = await byPolicy(
      privileged({
        [KEY]: `reason=CNI agent needs it, approved by platform (PLAT-12); expires=${dateIn(30)}`,
      }),
    );
    expect(r.noPrivileged).toEqual([]);
    expect(r.waiverValid).toEqual([]);
    expect(r.inEffect).toEqual([
      expect.stringMatching(
        new RegExp(
          `rule "no-privileged" is skipped until ${dateIn(30)}\\. Reason: CNI agent needs it`,
        ),
      ),
    ]);
  });

  it("does not silence other rules on the same resource", async () => {
    const r = privileged({ [KEY]: `reason=CNI agent needs it, approved; expires=${dateIn(30)}` });
    const spec = (r.props["spec"] as { template: { spec: { containers: unknown[] } } }).template
      .spec;
    spec.containers = [withSc(hardenedContainer(), { privileged: true, runAsUser: 0 })];
    const v = await evaluatePolicies([r]);
    expect(v.some((x) => x.policyName === "non-root")).toBe(true);
  });

  it.each([
    ["expired", `reason=CNI agent needs it, approved; expires=${dateIn(-2)}`, /it expired on/],
    ["reasonless", `expires=${dateIn(30)}`, /it has no reason/],
    ["without expiry", "reason=CNI agent needs it, approved", /it has no expiry/],
    [
      "with a malformed date",
      "reason=CNI agent needs it, approved; expires=2026-02-30",
      /is not a date in YYYY-MM-DD form/,
    ],
  ])("an %s waiver is a violation and silences nothing", async (_what, value, re) => {
    const r = await byPolicy(privileged({ [KEY]: value }));
    expect(r.noPrivileged).toHaveLength(1);
    expect(r.waiverValid).toEqual([expect.stringMatching(re)]);
    expect(r.waiverValid[0]).toMatch(/It does not silence anything/);
    expect(r.inEffect).toEqual([]);
  });

  it("a waiver for a rule that does not exist is a violation", async () => {
    const r = await byPolicy(
      privileged({
        "policy.monkeytown.dev/waive-no-privilidged": `reason=typo in the rule name; expires=${dateIn(5)}`,
      }),
    );
    expect(r.waiverValid).toEqual([expect.stringMatching(/no rule named "no-privilidged" exists/)]);
    expect(r.noPrivileged).toHaveLength(1);
  });

  it("too short a reason or too distant an expiry applies but is flagged, with configurable limits", async () => {
    const far = privileged({ [KEY]: `reason=CNI agent needs it, approved; expires=${dateIn(60)}` });
    expect((await byPolicy(far)).waiverValid).toEqual([]);
    const strict = await byPolicy(far, { "waiver-valid": { maxDays: 30 } });
    expect(strict.waiverValid).toEqual([
      expect.stringMatching(/is more than 30 days ahead\. It still applies, but must be fixed/),
    ]);
    expect(strict.noPrivileged).toEqual([]);
    const short = await byPolicy(privileged({ [KEY]: `reason=needed; expires=${dateIn(5)}` }));
    expect(short.waiverValid).toEqual([expect.stringMatching(/shorter than 10 characters/)]);
  });

  it.each([
    [
      "disallow-proc-mount",
      { containers: [withSc(hardenedContainer(), { procMount: "Unmasked" })] },
    ],
    ["restrict-sysctls", { securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } }],
    ["restrict-selinux", { securityContext: { seLinuxOptions: { type: "spc_t" } } }],
    ["restrict-apparmor", { securityContext: { appArmorProfile: { type: "Unconfined" } } }],
    ["disallow-host-process", { securityContext: { windowsOptions: { hostProcess: true } } }],
    ["restrict-volume-types", { volumes: [{ name: "repo", gitRepo: { repository: "r" } }] }],
  ] as const)("%s honours its waiver on the workload", async (rule, overrides) => {
    const d = workload("DaemonSet", hardenedPodSpec(overrides as never), "node-agent");
    const of = async (r: TestResource) =>
      (await evaluatePolicies([r])).filter((v) => v.policyName === rule);
    expect(await of(d)).toHaveLength(1);
    const waived = {
      ...d,
      props: {
        ...d.props,
        metadata: {
          ...(d.props["metadata"] as object),
          annotations: {
            [`policy.monkeytown.dev/waive-${rule}`]: `reason=node agent, reviewed by platform (PLAT-31); expires=${dateIn(30)}`,
          },
        },
      },
    };
    expect(await of(waived)).toEqual([]);
    const v = await evaluatePolicies([waived]);
    expect(v.filter((x) => x.policyName === "waiver-valid")).toEqual([]);
    expect(v.filter((x) => x.policyName === "waivers-in-effect").map((x) => x.message)).toEqual([
      expect.stringMatching(new RegExp(`rule "${rule}" is skipped until`)),
    ]);
  });

  it("waives a stack rule for the annotated workload only", async () => {
    const d = workload("Deployment", hardenedPodSpec(), "web", 1);
    const waived = {
      ...d,
      props: {
        ...d.props,
        metadata: {
          ...(d.props["metadata"] as object),
          annotations: {
            "policy.monkeytown.dev/waive-network-policy-coverage": `reason=migrating to Cilium policies; expires=${dateIn(10)}`,
          },
        },
      },
    };
    const other = workload("Deployment", hardenedPodSpec(), "api", 1);
    const v = (await evaluatePolicies([waived, other])).filter(
      (x) => x.policyName === "network-policy-coverage",
    );
    expect(v.map((x) => x.message)).toEqual([expect.stringMatching(/^Deployment "api"/)]);
  });

  it("Docker containers carry waivers as labels", async () => {
    const c = resourceOf(docker.Container, "agent", {
      image: "ghcr.io/monkeytown/agent:1.0.0",
      privileged: true,
      labels: [{ label: KEY, value: `reason=needs device access, approved; expires=${dateIn(3)}` }],
    });
    const v = await evaluatePolicies([c]);
    expect(v.filter((x) => x.policyName === "no-privileged")).toEqual([]);
    expect(v.filter((x) => x.policyName === "waivers-in-effect")).toHaveLength(1);
  });

  it("parses fields in any order and case, and reports unknown fields", () => {
    const w = parseWaiver(
      "r",
      "k",
      ` Expires=${dateIn(1)} ; REASON = long enough reason `,
      Date.now(),
    );
    expect(w.problems).toEqual([]);
    expect(w.reason).toBe("long enough reason");
    expect(
      parseWaiver("r", "k", `reason=long enough reason; expires=${dateIn(1)}; owner=me`, Date.now())
        .problems,
    ).toEqual(['unknown field "owner" (only reason and expires are read)']);
  });
});

describe("secret-data-as-pulumi-secret (remediation)", () => {
  it("wraps every plaintext data and stringData value as a Pulumi secret", async () => {
    const s = resourceOf(k8s.core.v1.Secret, "api-secrets", {
      metadata: { name: "api-secrets" },
      stringData: { password: "hunter2hunter2" },
      data: { key: "aGVsbG8=" },
    });
    const out = await remediate(s);
    const stringData = out["stringData"] as Record<string, unknown>;
    const data = out["data"] as Record<string, unknown>;
    expect(stringData["password"]).toBeInstanceOf(Secret);
    expect((stringData["password"] as Secret).value).toBe("hunter2hunter2");
    expect((data["key"] as Secret).value).toBe("aGVsbG8=");
    expect(out["metadata"]).toEqual({ name: "api-secrets" });
  });

  it("leaves other resources and unknown values alone, and does nothing when not at level remediate", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const s = resourceOf(k8s.core.v1.Secret, "s", { stringData: { later: unknown } });
    expect(await remediate(s)).toEqual(s.props);
    const cm = resourceOf(k8s.core.v1.ConfigMap, "c", { data: { a: "b" } });
    expect(await remediate(cm)).toEqual(cm.props);
    const plain = resourceOf(k8s.core.v1.Secret, "p", { stringData: { a: "b" } });
    expect(await remediate(plain, { "secret-data-as-pulumi-secret": "advisory" })).toEqual(
      plain.props,
    );
  });
});
