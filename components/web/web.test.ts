import { describe, expect, it } from "vitest";
import { installMocks, type Harness } from "../../test/harness";
import { renderNginxConfig } from "./nginx";
import { validateWebServiceArgs, type WebServiceArgs } from "./index";

const BASE: WebServiceArgs = { namespace: "ns", image: "ghcr.io/acme/web:1.0.0" };

async function build(args: Partial<WebServiceArgs> = {}): Promise<Harness> {
  const h = await installMocks();
  const { WebService } = await import("./index");
  new WebService("web", { ...BASE, ...args });
  await h.settle();
  return h;
}

const deployment = (h: Harness) => h.one("kubernetes:apps/v1:Deployment", "web-deployment").inputs;

describe("WebService", () => {
  it("runs nginx hardened: uid 1001, read-only root, no escalation, no capabilities, RuntimeDefault", async () => {
    const h = await build();
    const pod = deployment(h).spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = pod.containers[0];
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 1001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("mounts a writable emptyDir only where nginx writes", async () => {
    const h = await build();
    const pod = deployment(h).spec.template.spec;
    const emptyDirs = pod.volumes.filter((v: { emptyDir?: unknown }) => v.emptyDir);
    expect(emptyDirs.map((v: { name: string }) => v.name)).toEqual(["run"]);
    const mounts = pod.containers[0].volumeMounts;
    expect(mounts.find((m: { name: string }) => m.name === "run").mountPath).toBe("/tmp/nginx");
    expect(mounts.find((m: { name: string }) => m.name === "nginx-conf")).toMatchObject({
      mountPath: "/etc/nginx/nginx.conf",
      subPath: "nginx.conf",
      readOnly: true,
    });
  });

  it("has the seed's resources, probes and rolling update by default", async () => {
    const h = await build();
    const spec = deployment(h).spec;
    const c = spec.template.spec.containers[0];
    expect(c.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "200m", memory: "128Mi" },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/ready", port: "http" });
    // The seed's 30 s container recovery: 5 s probes, SIGKILL 2 s after a liveness failure.
    expect(c.livenessProbe).toMatchObject({
      periodSeconds: 5,
      failureThreshold: 3,
      timeoutSeconds: 2,
      terminationGracePeriodSeconds: 2,
    });
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(spec.replicas).toBe(1);
  });

  it("keeps serving for 5 s after it is told to stop (preStop), within its grace period", async () => {
    const pod = deployment(await build()).spec.template.spec;
    expect(pod.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
  });

  it("a rollout that never finishes fails the deploy after 300 s, or what it is given", async () => {
    for (const [given, seconds] of [
      [undefined, 300],
      [90, 90],
    ] as const) {
      const h = await installMocks();
      const { WebService } = await import("./index");
      await h.runAsStack(async () => {
        new WebService("web", { ...BASE, rolloutTimeoutSeconds: given });
      });
      await h.settle();
      // Kubernetes marks the rollout failed, and the engine stops waiting, at the same moment.
      expect(deployment(h).spec.progressDeadlineSeconds).toBe(seconds);
      expect(h.optionsOf("kubernetes:apps/v1:Deployment", "web-deployment").customTimeouts).toEqual(
        { create: `${seconds}s`, update: `${seconds}s` },
      );
    }
    expect(validateWebServiceArgs({ ...BASE, rolloutTimeoutSeconds: 2.5 })).toEqual([
      "`rolloutTimeoutSeconds` (2.5) must be a whole number of seconds, at least 1.",
    ]);
  });

  it("places its pods with the node selector and tolerations it is given", async () => {
    const toleration = { key: "dedicated", operator: "Exists", effect: "NoSchedule" };
    const pod = deployment(
      await build({ placement: { nodeSelector: { pool: "web" }, tolerations: [toleration] } }),
    ).spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: "web" });
    expect(pod.tolerations).toEqual([toleration]);
    const anywhere = deployment(await build()).spec.template.spec;
    expect(anywhere.nodeSelector).toBeUndefined();
    expect(anywhere.tolerations).toBeUndefined();
  });

  it("serves the builder's nginx.conf from a ConfigMap whose hash rolls the pods", async () => {
    const h = await build({ port: 8081 });
    const cm = h.one("kubernetes:core/v1:ConfigMap", "web-nginx").inputs;
    expect(cm.data["nginx.conf"]).toBe(renderNginxConfig({ port: 8081 }));
    for (const directive of [
      "server_tokens off;",
      "gzip on;",
      "location = /health",
      "location = /ready",
      "try_files $uri /index.html;",
    ]) {
      expect(cm.data["nginx.conf"]).toContain(directive);
    }
    const hashA =
      deployment(h).spec.template.metadata.annotations["monkeytown.dev/nginx-conf-sha256"];

    const h2 = await build({ port: 8082 });
    const hashB =
      deployment(h2).spec.template.metadata.annotations["monkeytown.dev/nginx-conf-sha256"];
    expect(hashA).toMatch(/^[0-9a-f]{16}$/);
    expect(hashB).not.toBe(hashA);
  });

  it("lets only the ingress controller in and nothing out", async () => {
    const h = await build({ ingressNamespace: "traefik" });
    const np = h.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "web-netpol").inputs.spec;
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.egress).toEqual([]);
    expect(np.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } },
    ]);
    expect(np.podSelector.matchLabels).toEqual(deployment(h).spec.selector.matchLabels);
  });

  it("adds a PodDisruptionBudget only from two replicas", async () => {
    expect((await build()).byType("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(0);
    const h = await build({ replicas: 3 });
    const pdb = h.one("kubernetes:policy/v1:PodDisruptionBudget", "web-pdb").inputs.spec;
    expect(pdb).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deployment(h).spec.selector.matchLabels },
    });
  });

  it("routes /api and /ws to the API on the site's Ingress, with TLS from the issuer", async () => {
    const h = await build({
      ingress: {
        host: "app.example.com",
        clusterIssuer: "letsencrypt-production",
        routes: [
          { path: "/api", serviceName: "api", servicePort: 80 },
          { path: "/ws", serviceName: "api", servicePort: 80 },
        ],
      },
    });
    const ing = h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress").inputs;
    expect(ing.spec.tls).toEqual([{ hosts: ["app.example.com"], secretName: "web-tls" }]);
    const paths = ing.spec.rules[0].http.paths.map(
      (p: { path: string; backend: { service: { name: string } } }) => [
        p.path,
        p.backend.service.name,
      ],
    );
    expect(paths).toEqual([
      ["/api", "api"],
      ["/ws", "api"],
      ["/", "web"],
    ]);
  });

  it("creates no Ingress unless asked", async () => {
    expect((await build()).byType("kubernetes:networking.k8s.io/v1:Ingress")).toHaveLength(0);
  });

  it("refuses bad arguments before creating anything, naming each one", async () => {
    expect(
      validateWebServiceArgs({
        ...BASE,
        replicas: 0,
        resources: {
          requests: { cpu: "300m", memory: "64Mi" },
          limits: { cpu: "200m", memory: "32Mi" },
        },
      }),
    ).toEqual([
      "`replicas` (0) must be a whole number of at least 1.",
      "`resources.limits.cpu` (200m) is below requests.cpu (300m): raise the limit to at least 300m or lower the request.",
      "`resources.limits.memory` (32Mi) is below requests.memory (64Mi): raise the limit to at least 64Mi or lower the request.",
    ]);
    const h = await installMocks();
    const { WebService } = await import("./index");
    expect(() => new WebService("bad", { ...BASE, replicas: 0 })).toThrow(
      'Invalid arguments for monkeytown:web:WebService "bad" (1 problem; nothing was registered):\n  - `replicas` (0) must be a whole number of at least 1.',
    );
    await h.settle();
    expect(h.resources).toHaveLength(0);
  });
});
