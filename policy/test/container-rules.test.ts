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
  withPodAnnotations,
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
  {
    rule: "disallow-proc-mount",
    behaviour: "an init container unmasks /proc",
    podSpec: () => init(withSc(web(), { procMount: "Unmasked" })),
    expected: [/init container "migrate" sets securityContext.procMount: "Unmasked"/],
  },
  {
    rule: "restrict-sysctls",
    behaviour: "the pod sets a safe sysctl and an unsafe one",
    podSpec: () =>
      hardenedPodSpec({
        securityContext: {
          ...hardenedPodSpec().securityContext,
          sysctls: [
            { name: "net.ipv4.tcp_syncookies", value: "1" },
            { name: "kernel.msgmax", value: "65536" },
          ],
        },
      }),
    expected: [/sets sysctl "kernel.msgmax" in spec.securityContext.sysctls/],
  },
  {
    rule: "restrict-selinux",
    behaviour: "the pod runs as spc_t and a container sets an SELinux user and role",
    podSpec: () =>
      hardenedPodSpec({
        securityContext: {
          ...hardenedPodSpec().securityContext,
          seLinuxOptions: { type: "spc_t", level: "s0:c123,c456" },
        },
        containers: [
          withSc(web(), {
            seLinuxOptions: { type: "container_t", user: "system_u", role: "system_r" },
          }),
        ],
      }),
    expected: [
      /"web" sets spec.securityContext.seLinuxOptions type "spc_t"\. .*Fix: remove type/,
      /container "web" sets securityContext.seLinuxOptions user "system_u", role "system_r"\. .*Fix: remove user and role/,
    ],
  },
  {
    rule: "restrict-apparmor",
    behaviour: "a container runs Unconfined under a pod-level RuntimeDefault",
    podSpec: () =>
      hardenedPodSpec({
        securityContext: {
          ...hardenedPodSpec().securityContext,
          appArmorProfile: { type: "RuntimeDefault" },
        },
        containers: [withSc(web(), { appArmorProfile: { type: "Unconfined" } })],
      }),
    expected: [/container "web" sets securityContext.appArmorProfile.type: "Unconfined"/],
  },
  {
    rule: "disallow-host-process",
    behaviour: "the pod and an init container ask for a Windows HostProcess",
    podSpec: () => ({
      ...init(withSc(web(), { windowsOptions: { hostProcess: true } })),
      securityContext: {
        ...hardenedPodSpec().securityContext,
        windowsOptions: { hostProcess: true, runAsUserName: "NT AUTHORITY\\SYSTEM" },
      },
    }),
    expected: [
      /"web" sets spec.securityContext.windowsOptions.hostProcess: true/,
      /init container "migrate" sets securityContext.windowsOptions.hostProcess: true/,
    ],
  },
  {
    rule: "restrict-volume-types",
    behaviour: "the pod mounts a gitRepo and an NFS share next to allowed volumes",
    podSpec: () =>
      hardenedPodSpec({
        volumes: [
          { name: "config", configMap: { name: "web" } },
          { name: "repo", gitRepo: { repository: "https://github.com/monkeytown/site.git" } },
          { name: "share", nfs: { server: "nfs.internal", path: "/exports/web" } },
          { name: "tmp", emptyDir: {} },
        ],
      }),
    expected: [/uses a gitRepo volume \("repo"\)/, /uses a nfs volume \("share"\)/],
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

const POD_SECURITY_RULES = [
  "disallow-proc-mount",
  "restrict-sysctls",
  "restrict-selinux",
  "restrict-apparmor",
  "disallow-host-process",
  "restrict-volume-types",
] as const;

/** Every value the Pod Security rules accept, at pod level and in each kind of container. */
function allowedValuesPodSpec(): PodSpec {
  const sc = {
    procMount: "Default",
    seLinuxOptions: { type: "container_init_t", level: "s0:c1,c2", user: "", role: "" },
    appArmorProfile: { type: "Localhost", localhostProfile: "monkeytown-web" },
    windowsOptions: { hostProcess: false },
  };
  return hardenedPodSpec({
    securityContext: {
      ...hardenedPodSpec().securityContext,
      sysctls: [
        { name: "kernel.shm_rmid_forced", value: "1" },
        { name: "net/ipv4/ip_unprivileged_port_start", value: "80" },
        { name: "net.ipv4.tcp_keepalive_time", value: "240" },
      ],
      seLinuxOptions: { type: "container_t", level: "s0:c1,c2" },
      appArmorProfile: { type: "RuntimeDefault" },
      windowsOptions: { hostProcess: false },
    },
    initContainers: [{ ...withSc(web(), sc), name: "migrate" }],
    containers: [withSc(web(), { ...sc, seLinuxOptions: { type: "container_kvm_t" } })],
    ephemeralContainers: [
      { name: "debug", image: "busybox:1.36", securityContext: { procMount: "Default" } },
    ],
    volumes: [
      { name: "config", configMap: { name: "web" } },
      { name: "creds", secret: { secretName: "web" } },
      { name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
      {
        name: "info",
        downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
      },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      { name: "data", persistentVolumeClaim: { claimName: "web-data" } },
      {
        name: "scratch",
        ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } },
      },
      { name: "vault", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true } },
    ],
  });
}

const ALLOWED_APPARMOR_ANNOTATIONS = {
  "container.apparmor.security.beta.kubernetes.io/web": "runtime/default",
  "container.apparmor.security.beta.kubernetes.io/migrate": "localhost/monkeytown-migrate",
};

describe.each(POD_SECURITY_RULES)("%s passes every value Pod Security allows", (rule) => {
  it.each(WORKLOAD_KINDS)("on a %s", async (kind) => {
    const r = withPodAnnotations(
      workload(kind, allowedValuesPodSpec()),
      ALLOWED_APPARMOR_ANNOTATIONS,
    );
    expect(await messagesOf(rule, [r])).toEqual([]);
  });
});

describe("Pod Security controls", () => {
  it.each(WORKLOAD_KINDS)(
    "restrict-apparmor fails on a %s whose pod annotation leaves a container unconfined",
    async (kind) => {
      const r = withPodAnnotations(workload(kind, hardenedPodSpec()), {
        ...ALLOWED_APPARMOR_ANNOTATIONS,
        "container.apparmor.security.beta.kubernetes.io/sidecar": "unconfined",
      });
      const messages = await messagesOf("restrict-apparmor", [r]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(
        new RegExp(
          `^${kind} "web", container "sidecar" is given AppArmor profile "unconfined" by the pod annotation container.apparmor.security.beta.kubernetes.io/sidecar\\. .*Fix: `,
        ),
      );
    },
  );

  it("restrict-apparmor reports an Unconfined pod-level profile once, on the pod", async () => {
    const spec = hardenedPodSpec({
      securityContext: {
        ...hardenedPodSpec().securityContext,
        appArmorProfile: { type: "Unconfined" },
      },
      initContainers: [{ ...web(), name: "migrate" }],
    });
    expect(await messagesOf("restrict-apparmor", [workload("Deployment", spec)])).toEqual([
      expect.stringMatching(
        /^Deployment "web" sets spec.securityContext.appArmorProfile.type: "Unconfined"/,
      ),
    ]);
  });

  it("restrict-selinux reports a pod-level type even when every container overrides it", async () => {
    const spec = hardenedPodSpec({
      securityContext: {
        ...hardenedPodSpec().securityContext,
        seLinuxOptions: { type: "unconfined_t" },
      },
      containers: [withSc(web(), { seLinuxOptions: { type: "container_t" } })],
    });
    expect(await messagesOf("restrict-selinux", [workload("StatefulSet", spec)])).toEqual([
      expect.stringMatching(
        /^StatefulSet "web" sets spec.securityContext.seLinuxOptions type "unconfined_t"/,
      ),
    ]);
  });

  it("restrict-selinux accepts an extra type only when configured", async () => {
    const spec = main(withSc(web(), { seLinuxOptions: { type: "container_engine_t" } }));
    expect(await messagesOf("restrict-selinux", [workload("Deployment", spec)])).toHaveLength(1);
    const config = {
      "restrict-selinux": {
        allowedTypes: ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"],
      },
    };
    expect(await messagesOf("restrict-selinux", [workload("Deployment", spec)], config)).toEqual(
      [],
    );
  });

  it("restrict-sysctls reads the slash form as the same sysctl, and takes a configured allow-list", async () => {
    const spec = hardenedPodSpec({
      securityContext: {
        ...hardenedPodSpec().securityContext,
        sysctls: [
          { name: "kernel/shm_rmid_forced", value: "1" },
          { name: "net.core.somaxconn", value: "1024" },
          { name: "net/ipv4/conf/eth0.100/rp_filter", value: "1" },
        ],
      },
    });
    const d = workload("Deployment", spec);
    expect(await messagesOf("restrict-sysctls", [d])).toEqual([
      expect.stringMatching(/sets sysctl "net.core.somaxconn"/),
      expect.stringMatching(/sets sysctl "net\/ipv4\/conf\/eth0.100\/rp_filter"/),
    ]);
    const config = {
      "restrict-sysctls": {
        allowedSysctls: [
          "kernel.shm_rmid_forced",
          "net.core.somaxconn",
          "net.ipv4.conf.eth0/100.rp_filter",
        ],
      },
    };
    expect(await messagesOf("restrict-sysctls", [d], config)).toEqual([]);
    expect(
      await messagesOf("restrict-sysctls", [d], { "restrict-sysctls": { allowedSysctls: [] } }),
    ).toHaveLength(3);
  });

  it("restrict-volume-types leaves hostPath to no-host-access and takes a configured allow-list", async () => {
    const spec = hardenedPodSpec({
      volumes: [
        { name: "certs", hostPath: { path: "/etc/ssl/certs" } },
        { name: "share", nfs: { server: "nfs.internal", path: "/exports/web" } },
      ],
    });
    const d = workload("DaemonSet", spec);
    expect(await messagesOf("restrict-volume-types", [d])).toEqual([
      expect.stringMatching(/^DaemonSet "web" uses a nfs volume \("share"\)/),
    ]);
    expect(await messagesOf("no-host-access", [d])).toEqual([
      expect.stringMatching(/mounts host path "\/etc\/ssl\/certs"/),
    ]);
    const config = {
      "restrict-volume-types": { allowedVolumeTypes: ["nfs"] },
      "no-host-access": { allowedHostPaths: ["/etc/ssl/certs"] },
    };
    expect(await messagesOf("restrict-volume-types", [d], config)).toEqual([]);
    expect(await messagesOf("no-host-access", [d], config)).toEqual([]);
  });

  it("disallow-proc-mount checks ephemeral containers too", async () => {
    const spec = hardenedPodSpec({
      ephemeralContainers: [
        { name: "debug", image: "busybox:1.36", securityContext: { procMount: "Unmasked" } },
      ],
    });
    expect(await messagesOf("disallow-proc-mount", [workload("Pod", spec)])).toEqual([
      expect.stringMatching(
        /^Pod "web", ephemeral container "debug" sets securityContext.procMount: "Unmasked"/,
      ),
    ]);
  });

  it("disallow-host-process accepts hostProcess: false and an unset windowsOptions", async () => {
    const spec = main(
      withSc(web(), { windowsOptions: { hostProcess: false, runAsUserName: "app" } }),
    );
    expect(await messagesOf("disallow-host-process", [workload("Deployment", spec)])).toEqual([]);
  });
});

describe("probes-configured", () => {
  // Batch pods finish; every other kind runs until stopped.
  const BATCH = ["Job", "CronJob"] as const;
  const longRunning = WORKLOAD_KINDS.filter((k) => !(BATCH as readonly string[]).includes(k));

  it.each(longRunning)("fails on a %s without probes", async (kind) => {
    const spec = main({ ...web(), readinessProbe: undefined, livenessProbe: undefined });
    const messages = await messagesOf("probes-configured", [workload(kind, spec)]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      new RegExp(`${kind} "web", container "web" has no readinessProbe or livenessProbe`),
    );
  });

  it.each(BATCH)("does not apply to a %s (batch pods finish)", async (kind) => {
    const spec = main({ ...web(), readinessProbe: undefined, livenessProbe: undefined });
    expect(await messagesOf("probes-configured", [workload(kind, spec)])).toEqual([]);
  });

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
    "disallow-proc-mount",
    "restrict-selinux",
    "restrict-apparmor",
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
    [
      "disallow-proc-mount",
      { securityOpts: ["no-new-privileges:true", "systempaths=unconfined"] },
      /sets the security option systempaths=unconfined/,
    ],
    [
      "restrict-selinux",
      { securityOpts: ["no-new-privileges:true", "label:disable"] },
      /sets the security option label=disable/,
    ],
    [
      "restrict-selinux",
      { securityOpts: ["no-new-privileges:true", "label=type:spc_t"] },
      /sets the security option label=type:spc_t/,
    ],
    [
      "restrict-apparmor",
      { securityOpts: ["no-new-privileges:true", "apparmor:unconfined"] },
      /sets the security option apparmor=unconfined/,
    ],
  ] as const)("%s fails on %j", async (rule, args, re) => {
    const messages = await messagesOf(rule, [container(args as Partial<docker.ContainerArgs>)]);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages[0]).toMatch(re);
  });

  it("keeps confinement options that name an allowed SELinux type, level or AppArmor profile", async () => {
    const c = container({
      securityOpts: [
        "no-new-privileges:true",
        "label=type:container_t",
        "label=level:s0:c100,c200",
        "apparmor=docker-default",
      ],
    });
    for (const rule of ["disallow-proc-mount", "restrict-selinux", "restrict-apparmor"])
      expect(await messagesOf(rule, [c]), rule).toEqual([]);
  });
});
