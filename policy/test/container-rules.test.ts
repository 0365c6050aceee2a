import * as docker from "@pulumi/docker";
import { describe, expect, it } from "vitest";
import { TestResource } from "../testing";
import {
  Container,
  PodSpec,
  WORKLOAD_KINDS,
  hardenedContainer,
  hardenedPodSpec,
  messagesOf,
  resourceOf,
  withSc,
  workload,
} from "./helpers";

interface Case {
  rule: string;
  /** What the failing fixture does wrong. */
  behaviour: string;
  podSpec: () => PodSpec;
  expected: RegExp[];
}

const init = (c: Container): PodSpec =>
  hardenedPodSpec({ initContainers: [{ ...c, name: "migrate" }] });
const main = (c: Container): PodSpec => hardenedPodSpec({ containers: [c] });
const web = hardenedContainer;

const CASES: Case[] = [
  {
    rule: "non-root",
    behaviour: "a container sets runAsUser: 0",
    podSpec: () => main(withSc(web(), { runAsUser: 0 })),
    expected: [/container "web" sets securityContext.runAsUser: 0/],
  },
  {
    rule: "non-root",
    behaviour: "runAsUser: 0 at pod level is reported even though the container overrides it",
    podSpec: () =>
      hardenedPodSpec({
        securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
      }),
    expected: [/sets spec.securityContext.runAsUser: 0/],
  },
  {
    rule: "non-root",
    behaviour: "an init container with neither runAsNonRoot nor runAsUser, and none at pod level",
    podSpec: () => ({
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [web()],
      initContainers: [
        { ...withSc(web(), { runAsNonRoot: undefined, runAsUser: undefined }), name: "migrate" },
      ],
    }),
    expected: [/init container "migrate" may run as root/],
  },
  {
    rule: "non-root",
    behaviour: "an ephemeral container sets runAsNonRoot: false and inherits no user",
    podSpec: () => ({
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [web()],
      ephemeralContainers: [
        { name: "debug", image: "busybox:1.36", securityContext: { runAsNonRoot: false } },
      ],
    }),
    expected: [/ephemeral container "debug" may run as root/],
  },
  {
    rule: "resource-limits",
    behaviour: "an init container has no resources",
    podSpec: () => init({ ...web(), resources: undefined }),
    expected: [
      /init container "migrate" has no requests.cpu, limits.cpu, requests.memory, limits.memory/,
    ],
  },
  {
    rule: "resource-limits",
    behaviour: "a memory limit below its request and a CPU limit above the maximum",
    podSpec: () =>
      main({
        ...web(),
        resources: {
          requests: { cpu: "200m", memory: "1Gi" },
          limits: { cpu: "16", memory: "512Mi" },
        },
      }),
    expected: [
      /limits.cpu "16" is above the allowed maximum "4"; limits.memory "512Mi" is below requests.memory "1Gi"/,
    ],
  },
  {
    rule: "read-only-root-filesystem",
    behaviour: "a container sets readOnlyRootFilesystem: false",
    podSpec: () => main(withSc(web(), { readOnlyRootFilesystem: false })),
    expected: [/container "web" sets readOnlyRootFilesystem: false/],
  },
  {
    rule: "no-privilege-escalation",
    behaviour:
      "an init container leaves allowPrivilegeEscalation unset (Kubernetes defaults it to true)",
    podSpec: () => init(withSc(web(), { allowPrivilegeEscalation: undefined })),
    expected: [/init container "migrate" does not set allowPrivilegeEscalation: false/],
  },
  {
    rule: "no-privileged",
    behaviour: "a container is privileged",
    podSpec: () => main(withSc(web(), { privileged: true })),
    expected: [/container "web" sets privileged: true/],
  },
  {
    rule: "drop-all-capabilities",
    behaviour: "a container drops only NET_RAW and adds SYS_ADMIN",
    podSpec: () =>
      main(
        withSc(web(), {
          capabilities: { drop: ["NET_RAW"], add: ["CAP_SYS_ADMIN", "NET_BIND_SERVICE"] },
        }),
      ),
    expected: [
      /container "web" does not drop ALL capabilities/,
      /container "web" adds capabilities "CAP_SYS_ADMIN"/,
    ],
  },
  {
    rule: "no-host-access",
    behaviour: "the pod shares the host network and mounts /var/run/docker.sock",
    podSpec: () =>
      hardenedPodSpec({
        hostNetwork: true,
        volumes: [{ name: "sock", hostPath: { path: "/var/run/docker.sock" } }],
      }),
    expected: [
      /sets hostNetwork: true/,
      /mounts host path "\/var\/run\/docker.sock" as volume "sock"/,
    ],
  },
  {
    rule: "no-host-access",
    behaviour: "a container binds a hostPort",
    podSpec: () => main({ ...web(), ports: [{ containerPort: 8080, hostPort: 80 }] }),
    expected: [/container "web" binds hostPort 80/],
  },
  {
    rule: "seccomp-runtime-default",
    behaviour: "a container overrides the pod's RuntimeDefault with Unconfined",
    podSpec: () => main(withSc(web(), { seccompProfile: { type: "Unconfined" } })),
    expected: [
      /container "web" runs with seccomp profile "Unconfined" \(from the container securityContext\)/,
    ],
  },
  {
    rule: "seccomp-runtime-default",
    behaviour: "no seccomp profile at pod or container level",
    podSpec: () => ({
      ...hardenedPodSpec(),
      securityContext: { runAsNonRoot: true, runAsUser: 1001 },
    }),
    expected: [/container "web" has no seccomp profile/],
  },
  {
    rule: "image-pinned",
    behaviour: "an init container uses :latest and the main container has no tag",
    podSpec: () =>
      hardenedPodSpec({
        initContainers: [{ ...web(), name: "migrate", image: "ghcr.io/monkeytown/api:latest" }],
        containers: [{ ...web(), image: "nginx" }],
      }),
    expected: [
      /init container "migrate": image "ghcr.io\/monkeytown\/api:latest" uses the mutable :latest tag/,
      /container "web": image "nginx" has no tag/,
    ],
  },
];

describe.each(CASES)("$rule fails when $behaviour", ({ rule, podSpec, expected }) => {
  it.each(WORKLOAD_KINDS)("on a %s", async (kind) => {
    const messages = await messagesOf(rule, [workload(kind, podSpec())]);
    expect(messages).toHaveLength(expected.length);
    expected.forEach((re, i) => {
      expect(messages[i]).toMatch(re);
      expect(messages[i]).toContain(`${kind} "web"`);
      expect(messages[i]).toMatch(/Fix: /);
    });
  });
});

const RULES = [...new Set(CASES.map((c) => c.rule)), "probes-configured"];

describe.each(RULES)("%s passes the hardened pod", (rule) => {
  it.each(WORKLOAD_KINDS)("on a %s", async (kind) => {
    const podSpec = hardenedPodSpec({
      initContainers: [
        { ...web(), name: "migrate", readinessProbe: undefined, livenessProbe: undefined },
      ],
    });
    expect(await messagesOf(rule, [workload(kind, podSpec)])).toEqual([]);
  });
});

describe("pod-level settings and container overrides", () => {
  it("non-root accepts runAsNonRoot set only at pod level", async () => {
    const c = withSc(web(), { runAsNonRoot: undefined, runAsUser: undefined });
    expect(await messagesOf("non-root", [workload("Deployment", main(c))])).toEqual([]);
  });

  it("non-root accepts a container that overrides a root pod default with its own UID, but flags the pod", async () => {
    const spec = hardenedPodSpec({ securityContext: { runAsUser: 0 } });
    const messages = await messagesOf("non-root", [workload("Deployment", spec)]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/Deployment "web" sets spec.securityContext.runAsUser: 0/);
  });

  it("non-root honours a container runAsUser below the configured minimum", async () => {
    const spec = main(withSc(web(), { runAsUser: 100 }));
    expect(await messagesOf("non-root", [workload("Deployment", spec)])).toEqual([]);
    const strict = await messagesOf("non-root", [workload("Deployment", spec)], {
      "non-root": { minRunAsUser: 1000 },
    });
    expect(strict).toHaveLength(1);
    expect(strict[0]).toMatch(
      /runs as UID 100 \(from the container securityContext\), below the minimum 1000/,
    );
  });

  it("seccomp accepts a pod-level RuntimeDefault that the container does not override", async () => {
    expect(
      await messagesOf("seccomp-runtime-default", [workload("StatefulSet", hardenedPodSpec())]),
    ).toEqual([]);
  });

  it("resource-limits ignores ephemeral containers, which cannot carry resources", async () => {
    const spec = hardenedPodSpec({
      ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }],
    });
    expect(await messagesOf("resource-limits", [workload("Pod", spec)])).toEqual([]);
  });

  it("resource-limits can waive CPU limits by config", async () => {
    const spec = main({
      ...web(),
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "64Mi" } },
    });
    expect(await messagesOf("resource-limits", [workload("Deployment", spec)])).toHaveLength(1);
    expect(
      await messagesOf("resource-limits", [workload("Deployment", spec)], {
        "resource-limits": { requireCpuLimit: false },
      }),
    ).toEqual([]);
  });

  it("image-pinned requires a digest only where configured", async () => {
    const spec = main({ ...web(), image: "ghcr.io/monkeytown/web:1.4.2" });
    expect(await messagesOf("image-pinned", [workload("Deployment", spec)])).toEqual([]);
    const strict = await messagesOf("image-pinned", [workload("Deployment", spec)], {
      "image-pinned": { requireDigest: true },
    });
    expect(strict).toHaveLength(1);
    expect(strict[0]).toMatch(/is not pinned by digest/);
  });

  it("image-pinned reads a registry port as a registry, not a tag", async () => {
    const spec = main({ ...web(), image: "localhost:5000/web" });
    expect((await messagesOf("image-pinned", [workload("Deployment", spec)]))[0]).toMatch(
      /has no tag/,
    );
  });

  it("no-host-access accepts an allowlisted host path prefix", async () => {
    const spec = hardenedPodSpec({
      volumes: [{ name: "certs", hostPath: { path: "/etc/ssl/certs" } }],
    });
    const config = { "no-host-access": { allowedHostPaths: ["/etc/ssl"] } };
    expect(await messagesOf("no-host-access", [workload("DaemonSet", spec)], config)).toEqual([]);
  });

  it("drop-all-capabilities accepts NET_BIND_SERVICE by default and not when production removes it", async () => {
    const spec = main(
      withSc(web(), { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } }),
    );
    expect(await messagesOf("drop-all-capabilities", [workload("Deployment", spec)])).toEqual([]);
    const strict = { "drop-all-capabilities": { allowedAddCapabilities: [] } };
    expect(
      await messagesOf("drop-all-capabilities", [workload("Deployment", spec)], strict),
    ).toHaveLength(1);
  });
});

describe("probes-configured", () => {
  it.each(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] as const)(
    "fails on a %s without probes",
    async (kind) => {
      const spec = main({ ...web(), readinessProbe: undefined, livenessProbe: undefined });
      const messages = await messagesOf("probes-configured", [workload(kind, spec)]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(
        new RegExp(`${kind} "web", container "web" has no readinessProbe or livenessProbe`),
      );
    },
  );

  it.each(["Job", "CronJob"] as const)(
    "does not apply to a %s (batch pods finish)",
    async (kind) => {
      const spec = main({ ...web(), readinessProbe: undefined, livenessProbe: undefined });
      expect(await messagesOf("probes-configured", [workload(kind, spec)])).toEqual([]);
    },
  );

  it("fails when liveness checks exactly what readiness checks", async () => {
    const probe = { httpGet: { path: "/healthz", port: 8080 } };
    const spec = main({
      ...web(),
      readinessProbe: probe,
      livenessProbe: { ...probe, periodSeconds: 20 },
    });
    const messages = await messagesOf("probes-configured", [workload("Deployment", spec)]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/uses the same check for readinessProbe and livenessProbe/);
  });
});

describe("docker.Container", () => {
  const hardened: docker.ContainerArgs = {
    name: "web",
    image: "ghcr.io/monkeytown/web:1.4.2",
    user: "1001:1001",
    readOnly: true,
    memory: 512,
    cpus: "1",
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
  };
  const container = (args: Partial<docker.ContainerArgs>): TestResource =>
    resourceOf(docker.Container, "web", { ...hardened, ...args } as never);

  it.each([
    "non-root",
    "resource-limits",
    "read-only-root-filesystem",
    "no-privilege-escalation",
    "no-privileged",
    "drop-all-capabilities",
    "no-host-access",
    "seccomp-runtime-default",
    "image-pinned",
  ])("a hardened container passes %s", async (rule) => {
    expect(await messagesOf(rule, [container({})])).toEqual([]);
  });

  it.each([
    ["non-root", { user: undefined }, /docker.Container "web" sets no user/],
    ["non-root", { user: "root:root" }, /runs as user "root:root" \(root\)/],
    [
      "resource-limits",
      { memory: undefined, cpus: undefined },
      /sets no memory and cpus \(or cpuShares\) limit/,
    ],
    ["read-only-root-filesystem", { readOnly: false }, /does not set readOnly: true/],
    [
      "no-privilege-escalation",
      { securityOpts: [] },
      /does not set the no-new-privileges security option/,
    ],
    ["no-privileged", { privileged: true }, /sets privileged: true/],
    [
      "drop-all-capabilities",
      { capabilities: { drops: ["NET_RAW"], adds: ["SYS_ADMIN"] } },
      /does not drop ALL capabilities/,
    ],
    [
      "no-host-access",
      { networkMode: "host", volumes: [{ hostPath: "/", containerPath: "/host" }] },
      /sets networkMode: "host"/,
    ],
    [
      "seccomp-runtime-default",
      { securityOpts: ["no-new-privileges:true", "seccomp=unconfined"] },
      /disables seccomp/,
    ],
    ["image-pinned", { image: "nginx:latest" }, /uses the mutable :latest tag/],
  ] as const)("%s fails on %j", async (rule, args, re) => {
    const messages = await messagesOf(rule, [container(args as Partial<docker.ContainerArgs>)]);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages[0]).toMatch(re);
  });
});
