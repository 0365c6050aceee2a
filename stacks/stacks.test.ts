/**
 * Each stack file, run through the real program under mocks: the resources it registers and the
 * environment-matrix values (architecture seed §5) they carry.
 */
import { describe, expect, it } from "vitest";
import { installMocks, valueOf, type Harness, type RecordedResource } from "../test/harness";
import { TEST_SECRETS, stackTestConfig } from "../test/stack-config";
import type { StackOutputs } from "./program";
import { REQUIRED_CHECK_CONTEXTS } from "../components/repository/checks";

async function runStack(stack: string): Promise<{ h: Harness; outputs: StackOutputs }> {
  const { config, secretKeys } = stackTestConfig(stack);
  const h = await installMocks({ stack, config, secretKeys });
  const { program } = await import("./program");
  const outputs = await program();
  await h.settle();
  return { h, outputs };
}

/** The program inside the root Stack resource, as the engine runs it. */
async function runStackAsEngine(
  stack: string,
): Promise<{ h: Harness; outputs: Record<string, unknown> }> {
  const { config, secretKeys } = stackTestConfig(stack);
  const h = await installMocks({ stack, config, secretKeys });
  const { program } = await import("./program");
  const outputs = await h.runAsStack(program);
  await h.settle();
  return { h, outputs };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
/** @pulumi/docker-build's Image type token. */
const DOCKER_BUILD_IMAGE = "docker-build:index:Image";
/** The digest docker-build (here its mock) reported for a built image: what the workloads must run. */
function digestOf(h: Harness, name: string): string {
  const digest = h.one(DOCKER_BUILD_IMAGE, name).outputs.digest as string;
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  return digest;
}
const containerOf = (d: RecordedResource) => d.inputs.spec.template.spec.containers[0];
const envOf = (h: Harness) => h.one("kubernetes:core/v1:ConfigMap", "api-env").inputs.data;

describe("dev stack (embedded default)", () => {
  it("renders to a folder with only the Kubernetes provider, and exercises every component that can", async () => {
    const { h, outputs } = await runStack("dev");
    const providers = h.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
    expect(providers.map((p) => p.type)).toEqual(["pulumi:providers:kubernetes"]);
    expect(providers[0].inputs.renderYamlToDirectory).toBe("rendered/dev");
    expect(await valueOf(pulumi_output(outputs.renderedManifestsDir))).toBe("rendered/dev");

    const types = new Set(h.resources.map((r) => r.type));
    for (const t of [
      "monkeytown:web:WebService",
      "monkeytown:api:ApiService",
      "monkeytown:registry:Registry",
      "monkeytown:secrets:Secrets",
      "monkeytown:alerts:Alerts",
    ]) {
      expect(types, t).toContain(t);
    }
    // Images referenced, not built (registry.push false: no docker-build or docker resource at
    // all); secrets referenced, not rendered.
    expect(h.resources.filter((r) => r.type.startsWith("docker"))).toEqual([]);
    expect(h.byType("kubernetes:core/v1:Secret")).toHaveLength(0);
    expect(await valueOf(outputs.images.web)).toBe("ghcr.io/monkeytown/monkeytown-web:0.1.0");
    expect(await valueOf(outputs.namespace)).toBe("monkeytown-dev");
    expect(await valueOf(outputs.webUrl)).toBe("http://dev.monkeytown.localhost");
  });

  it("carries the Development column of the environment matrix", async () => {
    const { h, outputs } = await runStack("dev");
    expect(outputs.environment).toMatchObject({
      nodeEnv: "development",
      appName: "Monkeytown Dev",
      debug: true,
      sourceMaps: true,
      analytics: false,
      tls: "none",
      healthCheckIntervalSeconds: 10,
    });
    expect(envOf(h)).toMatchObject({
      NODE_ENV: "development",
      APP_NAME: "Monkeytown Dev",
      ENABLE_DEBUG: "true",
      ENABLE_ANALYTICS: "false",
    });
    for (const name of ["web", "api"]) {
      const d = h.one(DEPLOYMENT, `${name}-deployment`);
      expect(d.inputs.spec.replicas).toBe(1);
      // The matrix's 10 s interval is the longest period; the 30 s recovery target needs 5 s.
      expect(containerOf(d).livenessProbe.periodSeconds).toBe(5);
    }
    const ingress = h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress");
    expect(ingress.inputs.spec).not.toHaveProperty("tls");
    expect(ingress.inputs.metadata.annotations).not.toHaveProperty(
      "cert-manager.io/cluster-issuer",
    );
  });
});

describe("staging stack", () => {
  it("builds and pushes images, delivers secrets, fronts with Cloudflare, Staging column of the matrix", async () => {
    const { h, outputs } = await runStack("staging");
    const images = h.byType(DOCKER_BUILD_IMAGE);
    expect(images.map((i) => i.name).sort()).toEqual(["registry-api", "registry-web"]);
    const webImage = h.one(DOCKER_BUILD_IMAGE, "registry-web");
    expect(webImage.inputs.tags).toEqual([
      expect.stringMatching(/^ghcr\.io\/monkeytown\/monkeytown-web:[0-9a-f]{12}$/),
    ]);
    expect(webImage.inputs.push).toBe(true);
    expect(webImage.inputs.context).toEqual({ location: "docker/web" });
    expect(webImage.inputs.dockerfile).toEqual({ location: "docker/Dockerfile.web" });
    // Base images: the Dockerfiles' public defaults (no build argument) unless configured; the
    // revision label is the tag (the commit).
    const revision = (webImage.inputs.tags as string[])[0].split(":").pop();
    expect(webImage.inputs.buildArgs).toEqual({
      REVISION: revision,
      VITE_APP_NAME: "Monkeytown Staging",
      VITE_ENABLE_DEBUG: "true",
      VITE_BUILD_SOURCEMAP: "true",
      VITE_ENABLE_ANALYTICS: "true",
    });
    expect(h.one(DOCKER_BUILD_IMAGE, "registry-api").inputs.buildArgs).toEqual({
      REVISION: revision,
    });
    expect(webImage.inputs.registries).toEqual([
      {
        address: "ghcr.io",
        username: "monkeytown-bot",
        password: TEST_SECRETS["monkeytown:registryToken"],
      },
    ]);
    // Deployed by the digest each image pushed.
    const webRef = `ghcr.io/monkeytown/monkeytown-web@${digestOf(h, "registry-web")}`;
    const apiRef = `ghcr.io/monkeytown/monkeytown-api@${digestOf(h, "registry-api")}`;
    expect(containerOf(h.one(DEPLOYMENT, "web-deployment")).image).toBe(webRef);
    expect(containerOf(h.one(DEPLOYMENT, "api-deployment")).image).toBe(apiRef);
    expect(await valueOf(outputs.images.web)).toBe(webRef);
    expect(await valueOf(outputs.images.api)).toBe(apiRef);

    expect(envOf(h)).toMatchObject({
      NODE_ENV: "staging",
      APP_URL: "https://staging.monkeytown.app",
    });
    expect(h.one(DEPLOYMENT, "api-deployment").inputs.spec.replicas).toBe(1);
    // The matrix's 30 s interval cannot meet the 30 s recovery target (30 s × 3 failures = 90 s).
    expect(containerOf(h.one(DEPLOYMENT, "api-deployment")).readinessProbe.periodSeconds).toBe(5);
    // The matrix says "Staging" TLS, but staging sits behind Cloudflare's strict SSL, which refuses
    // Let's Encrypt's staging CA (526): its origin certificate comes from the trusted CA.
    const ingress = h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress");
    expect(ingress.inputs.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe(
      "letsencrypt-production",
    );

    const appSecret = h.one("kubernetes:core/v1:Secret", "app-secrets-secret");
    expect(Object.keys(appSecret.inputs.stringData)).toEqual(["JWT_SECRET"]);
    expect(h.one("kubernetes:core/v1:Secret", "registry-pull-secret").inputs.type).toBe(
      "kubernetes.io/dockerconfigjson",
    );
    const ghSecrets = h.byType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret");
    expect(ghSecrets.map((s) => [s.inputs.environment, s.inputs.secretName])).toEqual([
      ["staging", "JWT_SECRET"],
    ]);
    // Staging shares production's zone: its record only, nothing zone-wide.
    expect(
      h.resources.filter((r) => r.type.startsWith("cloudflare:index/")).map((r) => r.type),
    ).toEqual(["cloudflare:index/dnsRecord:DnsRecord"]);
    // Staging does not own the repository's settings: production does.
    expect(h.byType("github:index/branchProtection:BranchProtection")).toHaveLength(0);
  });
});

describe("image builds from stack config", () => {
  it("a local builder, its image store and local base images reach every docker-build Image", async () => {
    const { config, secretKeys } = stackTestConfig("staging");
    const registry = JSON.parse(config["monkeytown:registry"]) as Record<string, unknown>;
    config["monkeytown:registry"] = JSON.stringify({
      ...registry,
      server: "127.0.0.1:5000",
      builder: "monkeytown-buildkit",
      store: true,
      buildOnPreview: false,
      baseImages: {
        node: "127.0.0.1:5000/base/node:20-local",
        nginx: "127.0.0.1:5000/base/nginx:1.27-local",
      },
    });
    const h = await installMocks({ stack: "staging", config, secretKeys });
    const { program } = await import("./program");
    const outputs = await program();
    await h.settle();
    const web = h.one(DOCKER_BUILD_IMAGE, "registry-web").inputs;
    const api = h.one(DOCKER_BUILD_IMAGE, "registry-api").inputs;
    for (const image of [web, api]) {
      expect(image.builder).toEqual({ name: "monkeytown-buildkit" });
      expect(image.exports).toEqual([{ registry: { store: true } }]);
      expect(image.buildOnPreview).toBe(false);
      expect(image.registries[0].address).toBe("127.0.0.1:5000");
    }
    expect(web.buildArgs.NGINX_IMAGE).toBe("127.0.0.1:5000/base/nginx:1.27-local");
    expect(api.buildArgs).toMatchObject({ NODE_IMAGE: "127.0.0.1:5000/base/node:20-local" });
    expect(web.tags).toEqual([
      expect.stringMatching(/^127\.0\.0\.1:5000\/monkeytown\/monkeytown-web:[0-9a-f]{12}$/),
    ]);
    expect(await valueOf(outputs.images.api)).toBe(
      `127.0.0.1:5000/monkeytown/monkeytown-api@${digestOf(h, "registry-api")}`,
    );
  });

  it("production blue-green: both colours run the built API image by its digest", async () => {
    const { h } = await runStack("production");
    const apiRef = `ghcr.io/monkeytown/monkeytown-api@${digestOf(h, "registry-api")}`;
    expect(containerOf(h.one(DEPLOYMENT, "api-blue")).image).toBe(apiRef);
    expect(containerOf(h.one(DEPLOYMENT, "api-green")).image).toBe(apiRef);
    expect(containerOf(h.one(DEPLOYMENT, "web-deployment")).image).toBe(
      `ghcr.io/monkeytown/monkeytown-web@${digestOf(h, "registry-web")}`,
    );
    const pullSecret = h.one("kubernetes:core/v1:Secret", "registry-pull-secret").inputs;
    for (const name of ["api-blue", "api-green", "web-deployment"]) {
      expect(h.one(DEPLOYMENT, name).inputs.spec.template.spec.imagePullSecrets, name).toEqual([
        { name: pullSecret.metadata.name },
      ]);
    }
  });
});

describe("production stack", () => {
  it("autoscales the API 2-10 with blue-green, PDBs and protection, Production column of the matrix", async () => {
    const { h, outputs } = await runStack("production");
    expect(outputs.environment).toMatchObject({
      nodeEnv: "production",
      appName: "Monkeytown",
      debug: false,
      sourceMaps: false,
      analytics: true,
      tls: "production",
      healthCheckIntervalSeconds: 30,
    });
    const hpa = h.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api-hpa");
    expect(hpa.inputs.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(hpa.inputs.spec.scaleTargetRef.name).toBe("api-blue");
    // The HPA-managed Deployment leaves replicas to the HPA; the idle colour stays warm.
    expect(h.one(DEPLOYMENT, "api-blue").inputs.spec).not.toHaveProperty("replicas");
    expect(h.one(DEPLOYMENT, "api-green").inputs.spec.replicas).toBe(2);
    expect(h.one("kubernetes:core/v1:Service", "api-service").inputs.spec.selector).toMatchObject({
      "monkeytown.dev/color": "blue",
    });
    expect(h.one(DEPLOYMENT, "web-deployment").inputs.spec.replicas).toBe(2);
    expect(
      h
        .byType("kubernetes:policy/v1:PodDisruptionBudget")
        .map((p) => p.name)
        .sort(),
    ).toEqual(["api-pdb", "web-pdb"]);
    expect(envOf(h)).toMatchObject({
      NODE_ENV: "production",
      ENABLE_DEBUG: "false",
      LOG_LEVEL: "info",
    });
    expect(
      h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress").inputs.metadata.annotations[
        "cert-manager.io/cluster-issuer"
      ],
    ).toBe("letsencrypt-production");
    expect(
      h.resources.some(
        (r) => r.type === "cloudflare:index/ruleset:Ruleset" && r.name.includes("waf"),
      ),
    ).toBe(true);

    // What would hurt to lose is protected; workloads are not.
    const { h: hs } = await runStackAsEngine("production");
    for (const [type, name] of [
      ["kubernetes:core/v1:Namespace", "namespace"],
      ["kubernetes:core/v1:Secret", "app-secrets-secret"],
      [
        "cloudflare:index/dnsRecord:DnsRecord",
        hs.byType("cloudflare:index/dnsRecord:DnsRecord")[0].name,
      ],
      ["github:index/branchProtection:BranchProtection", "repository-branch-protection"],
    ]) {
      expect(hs.isProtected(type, name), `${type} ${name}`).toBe(true);
    }
    expect(hs.isProtected(DEPLOYMENT, "api-blue")).toBe(false);
    // Production owns the merge gate: the required checks come from components/repository/checks.ts.
    const protection = h.one(
      "github:index/branchProtection:BranchProtection",
      "repository-branch-protection",
    );
    expect(protection.inputs.requiredStatusChecks[0].contexts).toEqual([
      ...REQUIRED_CHECK_CONTEXTS,
    ]);
    expect(protection.inputs.allowsForcePushes).toBe(false);
    const prodEnv = h.one(
      "github:index/repositoryEnvironment:RepositoryEnvironment",
      "repository-env-production",
    );
    expect(prodEnv.inputs.reviewers[0].teams).toEqual([4242]);
  });
});

describe("run as the engine does (inside the root Stack)", () => {
  it("dev: stack outputs are plain values an operator can read", async () => {
    const { outputs } = await runStackAsEngine("dev");
    expect(outputs).toMatchObject({
      namespace: "monkeytown-dev",
      webUrl: "http://dev.monkeytown.localhost",
      apiUrl: "http://dev.monkeytown.localhost/api/v1",
      images: {
        web: "ghcr.io/monkeytown/monkeytown-web:0.1.0",
        api: "ghcr.io/monkeytown/monkeytown-api:0.1.0",
      },
      renderedManifestsDir: "rendered/dev",
      appSecretName: "monkeytown-app",
    });
    expect(outputs).not.toHaveProperty("apiActiveColor");
  });
});

describe("the edge across the stacks that share the zone monkeytown.app", () => {
  it("one stack owns each zone-level object; its rules cover every stack's hostname; TLS is trusted end to end", async () => {
    const zoneObjects: string[] = [];
    const hostnames: string[] = [];
    let hostExpressions: string[] = [];
    for (const stack of ["dev", "staging", "production"]) {
      const { h } = await runStack(stack);
      for (const r of h.byType("cloudflare:index/zoneSetting:ZoneSetting")) {
        zoneObjects.push(`${r.inputs.zoneId} setting ${r.inputs.settingId} (${stack})`);
        if (r.inputs.settingId === "ssl") expect(r.inputs.value).toBe("strict");
      }
      for (const r of h.byType("cloudflare:index/ruleset:Ruleset")) {
        zoneObjects.push(`${r.inputs.zoneId} ruleset ${r.inputs.phase} (${stack})`);
        hostExpressions = hostExpressions.concat(
          (r.inputs.rules as { expression: string }[]).map((rule) => rule.expression),
        );
      }
      const records = h.byType("cloudflare:index/dnsRecord:DnsRecord");
      hostnames.push(...records.map((r) => String(r.inputs.name)));
      if (records.length > 0) {
        // Behind the edge, the origin's certificate is from a CA Cloudflare trusts.
        const ingress = h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress");
        expect(ingress.inputs.metadata.annotations["cert-manager.io/cluster-issuer"], stack).toBe(
          "letsencrypt-production",
        );
      }
    }
    expect(hostnames.sort()).toEqual(["monkeytown.app", "staging.monkeytown.app"]);
    // Each (zone, setting) and (zone, phase) once across all stacks: Cloudflare allows no more.
    const keys = zoneObjects.map((o) => o.replace(/ \(.*\)$/, ""));
    expect(new Set(keys).size, zoneObjects.join("\n")).toBe(keys.length);
    expect(zoneObjects.every((o) => o.endsWith("(production)"))).toBe(true);
    expect(zoneObjects.length).toBe(6); // ssl, always_use_https, min_tls_version; cache, rate limit, WAF
    // Every rule of the zone covers both sites.
    for (const expression of hostExpressions) {
      expect(expression).toContain('http.host in {"monkeytown.app" "staging.monkeytown.app"}');
    }
  });
});

describe("recovery targets in every stack (architecture seed §9.1)", () => {
  /** Seed: container crash RTO 30 s, deployment failure RTO 1 min. */
  const CONTAINER_RTO = 30;
  const DEPLOY_RTO = 60;
  /** The kubelet's restart after a stop (PLEG relist 1 s, no back-off on a first restart). */
  const RESTART = 2;

  it.each([
    ["dev", { crashSeconds: 9, hangSeconds: 28, rollbackSeconds: 60 }, 33],
    ["staging", { crashSeconds: 9, hangSeconds: 28, rollbackSeconds: 60 }, 33],
    ["production", { crashSeconds: 9, hangSeconds: 28, rollbackSeconds: 60 }, 26],
  ] as const)(
    "%s: every container serves again within 30 s of a crash or hang; a failed deploy is rolled back within 60 s",
    async (stack, worstCase, healthCheckBudget) => {
      const { h, outputs } = await runStack(stack);
      const hpas = h.byType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
      let rollout = 0;
      for (const d of h.byType(DEPLOYMENT)) {
        const c = containerOf(d);
        const l = c.livenessProbe;
        const r = c.readinessProbe;
        // From what the Deployment asks for, not from the plan: the probes as registered.
        const ready = RESTART + r.initialDelaySeconds + r.periodSeconds;
        const hang =
          l.failureThreshold * l.periodSeconds +
          l.timeoutSeconds +
          l.terminationGracePeriodSeconds +
          ready;
        expect(hang, d.name).toBeLessThanOrEqual(CONTAINER_RTO);
        expect(ready, d.name).toBeLessThanOrEqual(CONTAINER_RTO);
        expect(hang, d.name).toBe(worstCase.hangSeconds);
        expect(ready, d.name).toBe(worstCase.crashSeconds);
        // A rollback rolls the rolling Deployments, one pod at a time; a blue-green colour is
        // switched back instead.
        if (d.inputs.spec.selector.matchLabels["monkeytown.dev/color"] === undefined) {
          const hpa = hpas.find(
            (a) => a.inputs.spec.scaleTargetRef.name === d.inputs.metadata.name,
          );
          const pods = d.inputs.spec.replicas ?? hpa?.inputs.spec.maxReplicas;
          rollout = Math.max(rollout, pods * (r.initialDelaySeconds + r.periodSeconds));
        }
      }
      const hc = outputs.recovery.healthCheck;
      expect(hc.healthCheckBudgetSeconds).toBe(healthCheckBudget);
      expect(hc.healthCheckBudgetSeconds + hc.updateSeconds + rollout).toBeLessThanOrEqual(
        DEPLOY_RTO,
      );
      expect(hc.rolloutSeconds).toBe(rollout);
      expect(outputs.recovery.worstCase).toEqual({ ...worstCase, hangWithPodGraceSeconds: 56 });
    },
  );
});

describe("Pod Security in every stack", () => {
  it.each(["dev", "staging", "production"])(
    "%s: the namespace enforces (and warns on) the restricted Pod Security Standard",
    async (stack) => {
      const { h } = await runStack(stack);
      const labels = h.one("kubernetes:core/v1:Namespace", "namespace").inputs.metadata.labels;
      // Kubernetes' own admission, independent of the policy pack: the seed's non-root, read-only,
      // no-capability pods are what "restricted" admits, and nothing weaker may run here.
      expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      expect(labels["pod-security.kubernetes.io/warn"]).toBe("restricted");
    },
  );
});

describe("secrets in every stack", () => {
  it.each(["dev", "staging", "production"])(
    "%s: no secret value appears in plaintext in any registered input",
    async (stack) => {
      const { h } = await runStack(stack);
      const dump = h.dump();
      for (const value of Object.values(TEST_SECRETS)) {
        expect(dump).not.toContain(value);
      }
      expect(dump).not.toContain(
        Buffer.from(`monkeytown-bot:${TEST_SECRETS["monkeytown:registryToken"]}`).toString(
          "base64",
        ),
      );
    },
  );
});

function pulumi_output<T>(v: T) {
  // Outputs are plain values here; wrap for valueOf's signature.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("@pulumi/pulumi") as typeof import("@pulumi/pulumi")).output(v);
}
