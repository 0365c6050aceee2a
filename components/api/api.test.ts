import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks, type Harness } from "../../test/harness";
import { secretOutput } from "../secrets";
import { validateApiServiceArgs, type ApiServiceArgs } from "./index";

const BASE: ApiServiceArgs = { namespace: "ns", image: "ghcr.io/acme/api:1.0.0" };
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

async function build(args: Partial<ApiServiceArgs> = {}): Promise<Harness> {
  const h = await installMocks();
  const { ApiService } = await import("./index");
  new ApiService("api", { ...BASE, ...args });
  await h.settle();
  return h;
}

describe("ApiService", () => {
  it("has the seed's resources and hardened container by default", async () => {
    const h = await build();
    const c = h.one(DEPLOYMENT, "api-deployment").inputs.spec.template.spec.containers[0];
    expect(c.resources).toEqual({
      requests: { cpu: "200m", memory: "256Mi" },
      limits: { cpu: "1000m", memory: "512Mi" },
    });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
    expect(c.ports[0].containerPort).toBe(3000);
  });

  it("with fixed replicas: sets spec.replicas, no HPA, no PDB below two", async () => {
    const h = await build({ replicas: 1 });
    expect(h.one(DEPLOYMENT, "api-deployment").inputs.spec.replicas).toBe(1);
    expect(h.byType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toHaveLength(0);
    expect(h.byType("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(0);
  });

  it("with an HPA: no spec.replicas on the Deployment, HPA 2-10 on CPU, PDB below the HPA minimum", async () => {
    const h = await build({ autoscaling: { minReplicas: 2, maxReplicas: 10 } });
    const spec = h.one(DEPLOYMENT, "api-deployment").inputs.spec;
    expect(spec).not.toHaveProperty("replicas");
    const hpa = h.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api-hpa").inputs.spec;
    expect(hpa).toMatchObject({
      minReplicas: 2,
      maxReplicas: 10,
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
    });
    expect(hpa.metrics[0].resource).toEqual({
      name: "cpu",
      target: { type: "Utilization", averageUtilization: 70 },
    });
    const pdb = h.one("kubernetes:policy/v1:PodDisruptionBudget", "api-pdb").inputs.spec;
    expect(pdb).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: spec.selector.matchLabels },
    });
  });

  it("gets runtime settings from a ConfigMap and secrets only by secretKeyRef", async () => {
    const h = await build({
      env: { LOG_LEVEL: "info" },
      secretEnv: { name: "app-secret", keys: ["JWT_SECRET"] },
    });
    const c = h.one(DEPLOYMENT, "api-deployment").inputs.spec.template.spec.containers[0];
    expect(c.envFrom).toEqual([{ configMapRef: { name: "api-env" } }]);
    expect(c.env).toEqual([
      {
        name: "JWT_SECRET",
        valueFrom: { secretKeyRef: { name: "app-secret", key: "JWT_SECRET" } },
      },
    ]);
    expect(h.one("kubernetes:core/v1:ConfigMap", "api-env").inputs.data).toEqual({
      PORT: "3000",
      SHUTDOWN_DELAY_SECONDS: "5",
      SHUTDOWN_TIMEOUT_SECONDS: "20",
      LOG_LEVEL: "info",
    });
  });

  it("drains by itself within the pod's grace period: no preStop hook, the server's own delay", async () => {
    const h = await build();
    const pod = h.one(DEPLOYMENT, "api-deployment").inputs.spec.template.spec;
    const data = h.one("kubernetes:core/v1:ConfigMap", "api-env").inputs.data;
    expect(pod.containers[0].lifecycle).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    // Delay (still serving, /ready 503) + close timeout must end before SIGKILL.
    expect(
      Number(data.SHUTDOWN_DELAY_SECONDS) + Number(data.SHUTDOWN_TIMEOUT_SECONDS),
    ).toBeLessThan(pod.terminationGracePeriodSeconds);
  });

  it("every colour's rollout fails the deploy after rolloutTimeoutSeconds", async () => {
    const h = await installMocks();
    const { ApiService } = await import("./index");
    await h.runAsStack(async () => {
      new ApiService("api", {
        ...BASE,
        blueGreen: { activeColor: "blue" },
        rolloutTimeoutSeconds: 120,
      });
    });
    await h.settle();
    for (const color of ["blue", "green"]) {
      expect(h.one(DEPLOYMENT, `api-${color}`).inputs.spec.progressDeadlineSeconds).toBe(120);
      expect(h.optionsOf(DEPLOYMENT, `api-${color}`).customTimeouts).toEqual({
        create: "120s",
        update: "120s",
      });
    }
  });

  it("places every colour's pods where it is told, and nowhere in particular by default", async () => {
    const toleration = { key: "pool", operator: "Equal", value: "web", effect: "NoSchedule" };
    const placed = await build({
      blueGreen: { activeColor: "blue" },
      placement: { nodeSelector: { pool: "web" }, tolerations: [toleration] },
    });
    for (const color of ["blue", "green"]) {
      const pod = placed.one(DEPLOYMENT, `api-${color}`).inputs.spec.template.spec;
      expect(pod.nodeSelector).toEqual({ pool: "web" });
      expect(pod.tolerations).toEqual([toleration]);
    }
    const anywhere = (await build()).one(DEPLOYMENT, "api-deployment").inputs.spec.template.spec;
    expect(anywhere.nodeSelector).toBeUndefined();
    expect(anywhere.tolerations).toBeUndefined();
  });

  it("rolls the pods when a runtime setting changes", async () => {
    const a = await build({ env: { LOG_LEVEL: "info" } });
    const hashA = a.one(DEPLOYMENT, "api-deployment").inputs.spec.template.metadata.annotations[
      "monkeytown.dev/env-sha256"
    ];
    const b = await build({ env: { LOG_LEVEL: "debug" } });
    const hashB = b.one(DEPLOYMENT, "api-deployment").inputs.spec.template.metadata.annotations[
      "monkeytown.dev/env-sha256"
    ];
    expect(hashA).not.toBe(hashB);
  });

  it("lets in the ingress controller and Prometheus only; egress DNS and HTTPS", async () => {
    const h = await build();
    const np = h.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "api-netpol").inputs.spec;
    expect(
      np.ingress[0].from.map(
        (f: { namespaceSelector: { matchLabels: Record<string, string> } }) =>
          f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
      ),
    ).toEqual(["ingress-nginx", "monitoring"]);
    expect(
      np.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port)),
    ).toEqual([53, 53, 443]);
  });

  describe("blue-green", () => {
    it("runs two coloured Deployments; the Service selects the active colour, the preview Service the idle one", async () => {
      const h = await build({
        autoscaling: { minReplicas: 2, maxReplicas: 10 },
        blueGreen: { activeColor: "green", images: { green: "ghcr.io/acme/api:2.0.0" } },
      });
      const blue = h.one(DEPLOYMENT, "api-blue").inputs;
      const green = h.one(DEPLOYMENT, "api-green").inputs;
      expect(blue.spec.template.spec.containers[0].image).toBe("ghcr.io/acme/api:1.0.0");
      expect(green.spec.template.spec.containers[0].image).toBe("ghcr.io/acme/api:2.0.0");
      expect(green.spec).not.toHaveProperty("replicas");
      // The idle colour is the rollback target: it keeps the active colour's minimum.
      expect(blue.spec.replicas).toBe(2);
      expect(
        h.one("kubernetes:core/v1:Service", "api-service").inputs.spec.selector[
          "monkeytown.dev/color"
        ],
      ).toBe("green");
      expect(
        h.one("kubernetes:core/v1:Service", "api-preview").inputs.spec.selector[
          "monkeytown.dev/color"
        ],
      ).toBe("blue");
      expect(
        h.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api-hpa").inputs.spec
          .scaleTargetRef.name,
      ).toBe("api-green");
      expect(h.byType(DEPLOYMENT).map((d) => d.name)).not.toContain("api-deployment");
    });

    it("switching back is the same config change, reversed", async () => {
      const h = await build({ blueGreen: { activeColor: "blue" } });
      expect(
        h.one("kubernetes:core/v1:Service", "api-service").inputs.spec.selector[
          "monkeytown.dev/color"
        ],
      ).toBe("blue");
      expect(
        h.one("kubernetes:core/v1:Service", "api-preview").inputs.spec.selector[
          "monkeytown.dev/color"
        ],
      ).toBe("green");
    });
  });

  it("labels the live Service apart from the preview one: serviceLabels select the live one only", async () => {
    const h = await installMocks();
    const { ApiService } = await import("./index");
    const api = new ApiService("api", { ...BASE, blueGreen: { activeColor: "green" } });
    await h.settle();
    const live = h.one("kubernetes:core/v1:Service", "api-service").inputs.metadata.labels;
    const preview = h.one("kubernetes:core/v1:Service", "api-preview").inputs.metadata.labels;
    expect(live["monkeytown.dev/service-role"]).toBe("live");
    expect(preview["monkeytown.dev/service-role"]).toBe("preview");
    const selected = (labels: Record<string, string>) =>
      Object.entries(api.serviceLabels).every(([k, v]) => labels[k] === v);
    expect(selected(live)).toBe(true);
    expect(selected(preview)).toBe(false);
    // The colour is a pod label: a Service never carries it.
    expect(api.serviceLabels).not.toHaveProperty("monkeytown.dev/color");
    expect(live).not.toHaveProperty("monkeytown.dev/color");
  });

  it("refuses bad arguments, naming each one and the fix", () => {
    expect(
      validateApiServiceArgs({
        ...BASE,
        replicas: 3,
        autoscaling: { minReplicas: 5, maxReplicas: 2 },
        env: { "log-level": "x", JWT_SECRET: "oops" },
        secretEnv: { name: "s", keys: ["JWT_SECRET"] },
      }),
    ).toEqual([
      "`autoscaling.minReplicas` (5) is greater than `autoscaling.maxReplicas` (2): raise maxReplicas or lower minReplicas.",
      "`replicas` and `autoscaling` are both set: an HPA-managed Deployment must not set spec.replicas; remove replicas.",
      '`env` key "log-level" must be UPPER_SNAKE_CASE.',
      '`env` key "JWT_SECRET" is also a `secretEnv` key: keep it only in the Secret.',
    ]);
  });

  it("never sees a secret value: the Secrets component hands over a reference", async () => {
    const h = await installMocks();
    const { Secrets } = await import("../secrets");
    const { ApiService } = await import("./index");
    const secrets = new Secrets("app", {
      namespace: "ns",
      secretName: "app",
      delivery: "kubernetes",
      entries: {
        JWT_SECRET: secretOutput(pulumi.output("SENTINEL-jwt-value-0123456789abcdef0123")),
      },
    });
    new ApiService("api", { ...BASE, secretEnv: secrets.ref });
    await h.settle();
    expect(JSON.stringify(h.one(DEPLOYMENT, "api-deployment").rawInputs)).not.toContain("SENTINEL");
    expect(h.dump()).not.toContain("SENTINEL");
  });
});
