/**
 * What each builder returns for the real stack files: the component arguments stacks/program.ts
 * passes on, checked without mocks. The values are the stack files' and the seeds', spelled out.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig, type StackSecrets } from "../config";
import { DEFAULT_PROBE_TIMINGS } from "../components/k8s/recovery";
import type { SecretOutput } from "../components/secrets";
import { stackTestConfig } from "../test/stack-config";
import {
  alertSecretsArgs,
  alertsArgs,
  apiArgs,
  appSecretsArgs,
  clusterIssuer,
  edgeArgs,
  kubernetesProviderArgs,
  namespaceArgs,
  registryArgs,
  repositoryArgs,
  siteUrl,
  webArgs,
} from "./builders";

/** A stack's parsed config as tests run it (operator values included), with some keys changed. */
function configOf(stack: string, changes: Record<string, unknown> = {}): StackConfig {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackTestConfig(stack).config)) {
    if (!/Secret|Token|Url$|Password/.test(k)) plain[k.replace(/^monkeytown:/, "")] = v;
  }
  for (const [k, v] of Object.entries(changes)) plain[k] = JSON.stringify(v);
  const parsed = parseStackConfig({ plain, secretKeys: [] }, stack);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}
const objectOf = (stack: string, key: string) =>
  JSON.parse(stackTestConfig(stack).config[`monkeytown:${key}`]) as Record<string, unknown>;

/** Stand-ins for loaded secrets: the builders hand them on untouched, so identity is the test. */
const secret = (key: string) => ({ stand_in_for: key }) as unknown as SecretOutput;
const SECRETS = {
  jwtSecret: secret("jwtSecret"),
  registryToken: secret("registryToken"),
  alertWebhookUrl: secret("alertWebhookUrl"),
  smtpPassword: secret("smtpPassword"),
  cloudflareApiToken: secret("cloudflareApiToken"),
  githubToken: secret("githubToken"),
} satisfies StackSecrets;

const dev = configOf("dev");
const staging = configOf("staging");
const production = configOf("production");

/** The stack's probe timings are the recovery plan's (stacks.test.ts checks them); passed on as given. */
const PROBES = DEFAULT_PROBE_TIMINGS;
const workload = { namespace: "ns", image: "registry/image@sha256:abc", probes: PROBES };
const SECRET_REF = { name: "monkeytown-app", keys: ["JWT_SECRET"] };
const API_SERVICE = {
  serviceName: "api-svc",
  servicePort: 80,
  serviceLabels: { "app.kubernetes.io/name": "api" },
};

describe("site URL and ClusterIssuer", () => {
  it("dev: the Ingress host over http, no issuer", () => {
    expect(siteUrl(dev)).toBe("http://dev.monkeytown.localhost");
    expect(clusterIssuer(dev)).toBeUndefined();
  });
  it("staging and production: the edge domain over https, Let's Encrypt's trusted CA", () => {
    expect(siteUrl(staging)).toBe("https://staging.monkeytown.app");
    expect(siteUrl(production)).toBe("https://monkeytown.app");
    expect(clusterIssuer(staging)).toBe("letsencrypt-production");
    expect(clusterIssuer(production)).toBe("letsencrypt-production");
  });
  it("no host and no edge: no URL", () => {
    expect(siteUrl(configOf("dev", { web: { replicas: 1 } }))).toBeUndefined();
  });
});

describe("kubernetesProviderArgs and namespaceArgs", () => {
  it("dev renders to its folder; staging and production apply server-side to the cluster", () => {
    expect(kubernetesProviderArgs(dev)).toEqual({ renderYamlToDirectory: "rendered/dev" });
    for (const c of [staging, production]) {
      expect(kubernetesProviderArgs(c)).toEqual({
        context: undefined,
        enableServerSideApply: true,
      });
    }
  });
  it("the namespace enforces the restricted Pod Security Standard", () => {
    expect(namespaceArgs(production)).toEqual({
      metadata: {
        name: "monkeytown",
        labels: {
          "app.kubernetes.io/part-of": "monkeytown",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    expect(namespaceArgs(dev).metadata).toMatchObject({ name: "monkeytown-dev" });
    expect(namespaceArgs(staging).metadata).toMatchObject({ name: "monkeytown-staging" });
  });
});

describe("repositoryArgs", () => {
  it("only production manages the repository", () => {
    expect(repositoryArgs(dev)).toBeUndefined();
    expect(repositoryArgs(staging)).toBeUndefined();
    expect(repositoryArgs(production)).toEqual({
      repository: "monkeytown",
      requiredApprovingReviewCount: 1,
      productionReviewers: { users: [], teams: [4242] },
    });
  });
});

describe("registryArgs", () => {
  it("dev references its images, builds nothing and makes no pull Secret", () => {
    const args = registryArgs(dev, { tag: "unused", password: undefined, namespace: "ns" });
    expect(args).toMatchObject({ owner: "monkeytown", tag: "unused", push: false });
    expect(args.pullSecretNamespace).toBeUndefined();
    expect(args.images.web.ref).toBe("ghcr.io/monkeytown/monkeytown-web:0.1.0");
    expect(args.images.api.ref).toBe("ghcr.io/monkeytown/monkeytown-api:0.1.0");
    expect(args.images.web.build).toEqual({
      context: "docker/web",
      dockerfile: "docker/Dockerfile.web",
      args: {
        REVISION: "unused",
        VITE_APP_NAME: "Monkeytown Dev",
        VITE_ENABLE_DEBUG: "true",
        VITE_BUILD_SOURCEMAP: "true",
        VITE_ENABLE_ANALYTICS: "false",
      },
    });
    expect(args.images.api.build).toEqual({
      context: "docker/api",
      dockerfile: "docker/Dockerfile.api",
      // The commit (the tag) becomes the image's revision label: a new commit is a new digest.
      args: { REVISION: "unused" },
    });
  });

  it("staging and production build and push with the bot's token, and pull through a Secret", () => {
    for (const [c, debug] of [
      [staging, "true"],
      [production, "false"],
    ] as const) {
      const args = registryArgs(c, {
        tag: "0123456789ab",
        password: SECRETS.registryToken,
        namespace: "ns",
      });
      expect(args).toMatchObject({
        tag: "0123456789ab",
        push: true,
        username: "monkeytown-bot",
        pullSecretNamespace: "ns",
      });
      expect(args.password).toBe(SECRETS.registryToken);
      expect(args.images.web.ref).toBeUndefined();
      expect(args.images.web.build?.args?.VITE_ENABLE_DEBUG).toBe(debug);
    }
    // No token: nothing to pull with.
    const noToken = registryArgs(staging, { tag: "t", password: undefined, namespace: "ns" });
    expect(noToken.pullSecretNamespace).toBeUndefined();
  });

  it("base images reach the Dockerfiles as build arguments only when configured", () => {
    const c = configOf("staging", {
      registry: {
        ...objectOf("staging", "registry"),
        baseImages: { node: "mirror.example/node:20-alpine", nginx: "mirror.example/nginx:1.27" },
      },
    });
    const args = registryArgs(c, { tag: "t", password: undefined, namespace: "ns" });
    expect(args.images.web.build?.args?.NGINX_IMAGE).toBe("mirror.example/nginx:1.27");
    expect(args.images.api.build?.args).toEqual({
      NODE_IMAGE: "mirror.example/node:20-alpine",
      REVISION: "t",
    });
  });
});

describe("appSecretsArgs", () => {
  it("dev references the app Secret without values", () => {
    expect(appSecretsArgs(dev, {}, "ns")).toEqual({
      namespace: "ns",
      secretName: "monkeytown-app",
      entries: { JWT_SECRET: undefined },
      delivery: "external",
      githubEnvironments: [],
    });
  });

  it("staging and production deliver to the cluster and to their GitHub environment", () => {
    for (const [c, environment] of [
      [staging, "staging"],
      [production, "production"],
    ] as const) {
      const args = appSecretsArgs(c, SECRETS, "ns");
      expect(args.entries).toEqual({ JWT_SECRET: SECRETS.jwtSecret });
      expect(args.delivery).toBe("kubernetes");
      expect(args.githubEnvironments).toEqual([{ repository: "monkeytown", environment }]);
    }
  });

  it("the optional secrets are entries only when set", () => {
    const sentryDsn = secret("sentryDsn");
    const newRelicLicenseKey = secret("newRelicLicenseKey");
    const args = appSecretsArgs(staging, { ...SECRETS, sentryDsn, newRelicLicenseKey }, "ns");
    expect(args.entries).toEqual({
      JWT_SECRET: SECRETS.jwtSecret,
      SENTRY_DSN: sentryDsn,
      NEW_RELIC_LICENSE_KEY: newRelicLicenseKey,
    });
  });
});

describe("apiArgs", () => {
  const api = (c: StackConfig) => apiArgs(c, { ...workload, secretEnv: SECRET_REF });

  it("dev: one rolling replica, the seed's Node profile, the development matrix as env", () => {
    expect(api(dev)).toEqual({
      namespace: "ns",
      image: "registry/image@sha256:abc",
      port: 3000,
      replicas: 1,
      autoscaling: undefined,
      resources: {
        requests: { cpu: "200m", memory: "256Mi" },
        limits: { cpu: "1000m", memory: "512Mi" },
      },
      probes: PROBES,
      env: {
        NODE_ENV: "development",
        APP_NAME: "Monkeytown Dev",
        APP_URL: "http://dev.monkeytown.localhost",
        API_BASE_PATH: "/api/v1",
        ENABLE_DEBUG: "true",
        ENABLE_ANALYTICS: "false",
        LOG_LEVEL: "debug",
      },
      secretEnv: SECRET_REF,
      blueGreen: undefined,
      imagePullSecrets: undefined,
      placement: { nodeSelector: {}, tolerations: [] },
      rolloutTimeoutSeconds: 300,
      ingressNamespace: "ingress-nginx",
      monitoringNamespace: "monitoring",
    });
  });

  it("staging: one rolling replica at the edge's URL", () => {
    const args = api(staging);
    expect(args).toMatchObject({ replicas: 1, autoscaling: undefined, blueGreen: undefined });
    expect(args.env).toEqual({
      NODE_ENV: "staging",
      APP_NAME: "Monkeytown Staging",
      APP_URL: "https://staging.monkeytown.app",
      API_BASE_PATH: "/api/v1",
      ENABLE_DEBUG: "true",
      ENABLE_ANALYTICS: "true",
      LOG_LEVEL: "debug",
    });
  });

  it("production: HPA 2-10 at 70 % CPU and no fixed replicas, blue-green with blue serving", () => {
    const args = api(production);
    expect(args.replicas).toBeUndefined();
    expect(args.autoscaling).toEqual({ minReplicas: 2, maxReplicas: 10, targetCpuUtilization: 70 });
    expect(args.blueGreen).toEqual({
      activeColor: "blue",
      images: { blue: undefined, green: undefined },
    });
    expect(args.env).toMatchObject({
      NODE_ENV: "production",
      APP_URL: "https://monkeytown.app",
      ENABLE_DEBUG: "false",
      LOG_LEVEL: "info",
    });
  });

  it("api.env adds to the matrix and wins over it", () => {
    const c = configOf("dev", { api: { env: { LOG_LEVEL: "warn", FEATURE_X: "on" } } });
    expect(api(c).env).toMatchObject({
      LOG_LEVEL: "warn",
      FEATURE_X: "on",
      NODE_ENV: "development",
    });
  });
});

describe("webArgs", () => {
  const web = (c: StackConfig) => webArgs(c, { ...workload, api: API_SERVICE });
  const routes = [
    { path: "/api", serviceName: "api-svc", servicePort: 80 },
    { path: "/ws", serviceName: "api-svc", servicePort: 80 },
  ];

  it("dev: one replica on 8080, the seed's static profile, an Ingress without TLS", () => {
    expect(web(dev)).toEqual({
      namespace: "ns",
      image: "registry/image@sha256:abc",
      replicas: 1,
      port: 8080,
      resources: {
        requests: { cpu: "100m", memory: "64Mi" },
        limits: { cpu: "200m", memory: "128Mi" },
      },
      probes: PROBES,
      imagePullSecrets: undefined,
      placement: { nodeSelector: {}, tolerations: [] },
      rolloutTimeoutSeconds: 300,
      ingressNamespace: "ingress-nginx",
      ingress: {
        host: "dev.monkeytown.localhost",
        className: "nginx",
        clusterIssuer: undefined,
        routes,
      },
    });
  });

  it("staging one replica, production two, both with TLS from Let's Encrypt", () => {
    for (const [c, replicas, host] of [
      [staging, 1, "staging.monkeytown.app"],
      [production, 2, "monkeytown.app"],
    ] as const) {
      const args = web(c);
      expect(args.replicas).toBe(replicas);
      expect(args.ingress).toEqual({
        host,
        className: "nginx",
        clusterIssuer: "letsencrypt-production",
        routes,
      });
    }
  });

  it("no host: no Ingress", () => {
    expect(web(configOf("dev", { web: { replicas: 1 } })).ingress).toBeUndefined();
  });
});

describe("alertSecretsArgs and alertsArgs", () => {
  const inputs = { namespace: "ns", api: API_SERVICE, secretName: "monkeytown-alerting" };

  it("dev: critical alerts to Slack by reference, no digest, nothing secret rendered", () => {
    expect(alertSecretsArgs(dev, {}, "ns")).toEqual({
      namespace: "ns",
      secretName: "monkeytown-alerting",
      entries: { WEBHOOK_URL: undefined },
      delivery: "external",
    });
    expect(alertsArgs(dev, {}, inputs)).toEqual({
      namespace: "ns",
      apiSelectorLabels: { "app.kubernetes.io/name": "api" },
      hpaName: undefined,
      thresholds: {},
      operatorLabels: {},
      critical: {
        kind: "slack",
        urlSecret: { name: "monkeytown-alerting", key: "WEBHOOK_URL" },
      },
      warningDigest: undefined,
    });
  });

  it("staging and production: the warning digest authenticates with the SMTP password", () => {
    for (const c of [staging, production]) {
      expect(alertSecretsArgs(c, SECRETS, "ns").entries).toEqual({
        WEBHOOK_URL: SECRETS.alertWebhookUrl,
        SMTP_PASSWORD: SECRETS.smtpPassword,
      });
      expect(alertsArgs(c, SECRETS, inputs).warningDigest).toEqual({
        to: "ops@monkeytown.app",
        from: "alerts@monkeytown.app",
        smarthost: "smtp.monkeytown.app:587",
        authUsername: "alerts@monkeytown.app",
        authPassword: { name: "monkeytown-alerting", key: "SMTP_PASSWORD" },
      });
    }
  });

  it("without the SMTP password the digest goes unauthenticated and the Secret lacks the key", () => {
    const withoutSmtp: StackSecrets = { ...SECRETS, smtpPassword: undefined };
    expect(alertSecretsArgs(staging, withoutSmtp, "ns").entries).toEqual({
      WEBHOOK_URL: SECRETS.alertWebhookUrl,
    });
    expect(alertsArgs(staging, withoutSmtp, inputs).warningDigest).toMatchObject({
      authUsername: undefined,
      authPassword: undefined,
    });
  });

  it("the HPA-at-maximum alert gets the API's autoscaler", () => {
    const api = { ...API_SERVICE, autoscalerName: "api-hpa" };
    expect(alertsArgs(production, SECRETS, { ...inputs, api }).hpaName).toBe("api-hpa");
  });
});

describe("edgeArgs", () => {
  const enabled = (c: StackConfig) => {
    if (!c.edge.enabled) throw new Error("the edge is off");
    return c.edge;
  };

  it("dev has no edge", () => {
    expect(dev.edge.enabled).toBe(false);
  });

  it("staging owns its DNS record only", () => {
    expect(edgeArgs(enabled(staging))).toEqual({
      zoneId: "0123456789abcdef0123456789abcdef",
      records: [
        {
          hostname: "staging.monkeytown.app",
          target: "ingress.staging.monkeytown.app",
          type: "CNAME",
        },
      ],
      zone: undefined,
    });
  });

  it("production owns the zone: Pro, WAF, the seed's rate limits, both hostnames", () => {
    expect(edgeArgs(enabled(production))).toEqual({
      zoneId: "0123456789abcdef0123456789abcdef",
      records: [{ hostname: "monkeytown.app", target: "ingress.monkeytown.app", type: "CNAME" }],
      zone: {
        plan: "pro",
        hostnames: ["monkeytown.app", "staging.monkeytown.app"],
        advancedRateLimiting: undefined,
        waf: true,
        apiRateLimitRequests: 100,
        globalRateLimitRequests: 1000,
        userRateLimitRequests: 500,
        userKey: undefined,
      },
    });
  });

  it("the user key is a header or a cookie", () => {
    const edge = (userRateLimitKey: string) =>
      edgeArgs(
        enabled(
          configOf("production", {
            edge: {
              ...objectOf("production", "edge"),
              zoneId: "0123456789abcdef0123456789abcdef",
              plan: "enterprise",
              advancedRateLimiting: true,
              userRateLimitKey,
            },
          }),
        ),
      ).zone?.userKey;
    expect(edge("cookie:mt_session")).toEqual({ cookie: "mt_session" });
    expect(edge("header:x-user-id")).toEqual({ header: "x-user-id" });
  });
});
