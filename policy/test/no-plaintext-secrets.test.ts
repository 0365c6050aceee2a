import * as docker from "@pulumi/docker";
import * as dockerbuild from "@pulumi/docker-build";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { normaliseName, secretMatcher } from "../lib/secrets";
import { TestResource } from "../testing";
import {
  WORKLOAD_KINDS,
  hardenedContainer,
  hardenedPodSpec,
  messagesOf,
  resourceOf,
  workload,
} from "./helpers";

const RULE = "no-plaintext-secrets";
// Assembled at run time so that no credential-shaped literal sits in the repository.
const GH_TOKEN = ["ghp", "_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"].join("");
const PEM = ["-----BEGIN", " RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"].join("");
const DSN = ["postgres://app", ":s3cr3tpw@db.internal:5432/app"].join("");

describe("name and value matching", () => {
  it.each([
    "DB_PASSWORD",
    "dbPassword",
    "api-key",
    "API_KEY",
    "GITHUB_TOKEN",
    "client_secret",
    "PRIVATE_KEY",
    "aws.credentials",
    "SMTP_PASS",
    "NEW_RELIC_LICENSE_KEY",
    // Glued to a prefix without a separator, as client libraries name them.
    "PGPASSWORD",
    "DBPASSWORD",
    "MONGOPASSWD",
    "GITHUBTOKEN",
    "SLACKBOTTOKEN",
    "MAILGUNAPIKEY",
    "AWSSECRETACCESSKEY",
    "CLIENTSECRET",
    "NEWRELICLICENSEKEY",
    "REDISPASSWORD_V2",
  ])("%s names a secret", (name) => expect(secretMatcher().secretName(name)).toBe(true));

  it.each([
    "LOG_LEVEL",
    "PASSWORD_FILE",
    "SECRET_NAME",
    "TOKEN_URL",
    "API_KEY_ID",
    "KEYBOARD",
    "PASSPORT_STRATEGY",
    "tokenizer",
    "TOKEN_TTL",
    // Glued words that are not secret words.
    "PGPASSFILE",
    "BYPASS_CACHE",
    "COMPASS_URL",
    "HOTKEY",
    "MONKEY_NAME",
    "SECRETARY_EMAIL",
    "TOKENIZER_MODEL",
  ])("%s does not name a secret", (name) => expect(secretMatcher().secretName(name)).toBe(false));

  it.each([
    ["TOKEN_TTL_SECONDS", "3600"],
    ["PASSWORD_MIN_LENGTH", "12"],
    ["SECRET_ROTATION_DAYS", "90"],
    ["MAX_TOKENS", "4096"],
    ["JWT_SECRET_MIN_BYTES", "32"],
    ["API_KEY_RATE_LIMIT", "100"],
    ["TOKEN_EXPIRY_MINUTES", "15m"],
    ["refreshTokenLifetime", "P30D"],
    ["PASSWORD_HASH_ROUNDS", "12"],
    ["SESSION_TOKEN_CACHE_SIZE", "64Mi"],
  ])("%s=%s is a setting about a secret, not one", (name, value) => {
    expect(secretMatcher().judge(name, value)).toBeUndefined();
  });

  it.each([
    // A measure word, but not a quantity: reported.
    ["SECRET_ROTATION_DAYS", "hunter2hunter2"],
    ["TOKEN_TTL_SECONDS", "s3cr3t-t0ken"],
    // A quantity, but nothing in the name measures: a numeric password is still a password.
    ["DB_PASSWORD", "123456"],
    ["PGPASSWORD", "20240131"],
    ["API_TOKEN", "15m"],
  ])("%s=%s is still a plaintext secret", (name, value) => {
    expect(secretMatcher().judge(name, value)).toMatch(/says it holds a secret/);
  });

  it("normalises camelCase, kebab and dotted names", () => {
    expect(normaliseName("dbPassword")).toBe("db_password");
    expect(normaliseName("db-password.v2")).toBe("db_password_v2");
  });

  it.each([
    [GH_TOKEN, /GitHub token/],
    [PEM, /private key block/],
    [DSN, /URL or DSN with a password/],
    [["AKIA", "IOSFODNN7EXAMPLE"].join(""), /AWS access key id/],
  ])("recognises credential values whatever the name", (value, re) => {
    expect(secretMatcher().judge("WHATEVER", value)).toMatch(re);
  });

  it.each(["postgres://app:$(DB_PASSWORD)@db:5432/app", "https://example.com/path", "true", ""])(
    "%j is not a credential",
    (value) => {
      expect(secretMatcher().judge("DATABASE_URL", value)).toBeUndefined();
    },
  );
});

describe.each(WORKLOAD_KINDS)("on a %s", (kind) => {
  it("fails on a literal env value under a secret name, and on a credential under any name", async () => {
    const spec = hardenedPodSpec({
      containers: [
        {
          ...hardenedContainer(),
          env: [
            { name: "DB_PASSWORD", value: "hunter2hunter2" },
            { name: "DATABASE_URL", value: DSN },
          ],
        },
      ],
      initContainers: [{ ...hardenedContainer(), name: "migrate", args: ["--token", GH_TOKEN] }],
    });
    const messages = await messagesOf(RULE, [workload(kind, spec)]);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(
      new RegExp(`${kind} "web", init container "migrate": args\\[1\\] contains a GitHub token`),
    );
    expect(messages[1]).toMatch(
      /container "web": env "DB_PASSWORD" is a plaintext secret: its name "DB_PASSWORD" says it holds a secret/,
    );
    expect(messages[2]).toMatch(
      /container "web": env "DATABASE_URL" is a plaintext secret: its value contains a URL or DSN with a password/,
    );
  });

  it("passes secretKeyRef references and harmless values", async () => {
    const spec = hardenedPodSpec({
      containers: [
        {
          ...hardenedContainer(),
          env: [
            {
              name: "DB_PASSWORD",
              valueFrom: { secretKeyRef: { name: "api-secrets", key: "db-password" } },
            },
            { name: "DB_PASSWORD_FILE", value: "/run/secrets/db-password" },
            { name: "TOKEN_AUTH_ENABLED", value: "true" },
          ],
        },
      ],
    });
    expect(await messagesOf(RULE, [workload(kind, spec)])).toEqual([]);
  });

  it("fails on glued secret names (PGPASSWORD, AWSSECRETACCESSKEY), passes settings about secrets", async () => {
    const spec = hardenedPodSpec({
      containers: [
        {
          ...hardenedContainer(),
          env: [
            { name: "PGPASSWORD", value: "hunter2hunter2" },
            { name: "AWSSECRETACCESSKEY", value: "wJalrXUtnFEMIK7MDENGbPxRfiCY" },
            { name: "TOKEN_TTL_SECONDS", value: "3600" },
            { name: "PASSWORD_MIN_LENGTH", value: "12" },
            { name: "SECRET_ROTATION_DAYS", value: "90" },
            {
              name: "TOKEN_TTL_SECONDS_DEFAULT",
              valueFrom: { configMapKeyRef: { name: "cfg", key: "ttl" } },
            },
          ],
        },
      ],
    });
    const messages = await messagesOf(RULE, [workload(kind, spec)]);
    expect(messages).toEqual([
      expect.stringMatching(/env "PGPASSWORD" is a plaintext secret/),
      expect.stringMatching(/env "AWSSECRETACCESSKEY" is a plaintext secret/),
    ]);
  });

  it("fails on a secret-named env read from a ConfigMap", async () => {
    const spec = hardenedPodSpec({
      containers: [
        {
          ...hardenedContainer(),
          env: [
            { name: "API_TOKEN", valueFrom: { configMapKeyRef: { name: "cfg", key: "token" } } },
          ],
        },
      ],
    });
    const messages = await messagesOf(RULE, [workload(kind, spec)]);
    expect(messages).toEqual([
      expect.stringMatching(/env "API_TOKEN" reads a secret-looking value from a ConfigMap/),
    ]);
  });
});

describe("other carriers", () => {
  it("a ConfigMap with a secret-named key fails; nginx.conf-like data passes", async () => {
    const bad = resourceOf(k8s.core.v1.ConfigMap, "api-config", {
      metadata: { name: "api-config" },
      data: { apiKey: "abc123abc123", LOG_LEVEL: "info" },
    });
    const good = resourceOf(k8s.core.v1.ConfigMap, "web-nginx", {
      metadata: { name: "web-nginx" },
      data: {
        "nginx.conf": "server { listen 8080; location /api/ { proxy_pass http://api:3000; } }",
      },
    });
    expect(await messagesOf(RULE, [bad])).toEqual([
      expect.stringMatching(/ConfigMap "api-config": key "apiKey" is plaintext secret material/),
    ]);
    expect(await messagesOf(RULE, [good])).toEqual([]);
  });

  it("a ConfigMap of settings about secrets passes; a glued secret name in one fails", async () => {
    const settings = resourceOf(k8s.core.v1.ConfigMap, "auth-settings", {
      metadata: { name: "auth-settings" },
      data: { TOKEN_TTL_SECONDS: "3600", PASSWORD_MIN_LENGTH: "12", SECRET_ROTATION_DAYS: "90" },
    });
    expect(await messagesOf(RULE, [settings])).toEqual([]);
    const glued = resourceOf(k8s.core.v1.ConfigMap, "db", {
      metadata: { name: "db" },
      data: { PGHOST: "db.internal", DBPASSWORD: "hunter2hunter2" },
    });
    expect(await messagesOf(RULE, [glued])).toEqual([
      expect.stringMatching(/ConfigMap "db": key "DBPASSWORD" is plaintext secret material/),
    ]);
  });

  it("annotations and labels on any Kubernetes resource are checked; waiver and vault annotations are not name-checked", async () => {
    const svc = resourceOf(k8s.core.v1.Service, "api", {
      metadata: {
        name: "api",
        annotations: {
          "monkeytown.dev/upstream-password": "letmein-please",
          "vault.hashicorp.com/agent-inject-secret-db": "database/creds/app",
          "policy.monkeytown.dev/waive-no-load-balancer":
            "reason=not a secret at all; expires=2099-01-01",
        },
      },
      spec: { ports: [{ port: 80 }] },
    });
    expect(await messagesOf(RULE, [svc])).toEqual([
      expect.stringMatching(
        /Service "api": annotation "monkeytown.dev\/upstream-password" is plaintext secret material/,
      ),
    ]);
  });

  it("custom resources (no SDK class: the type token is the CRD's) are scanned for credential values", async () => {
    const slack = ["https://hooks.slack.com/services/", "T0001/B0002/", "abcdefABCDEF123456"].join(
      "",
    );
    const crd = (apiURL: unknown): TestResource => ({
      type: "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
      name: "alerts",
      props: {
        metadata: { name: "alerts" },
        spec: { receivers: [{ name: "critical", slackConfigs: [{ apiURL }] }] },
      },
    });
    expect(await messagesOf(RULE, [crd(slack)])).toEqual([
      expect.stringMatching(
        /^AlertmanagerConfig "alerts": spec.receivers\[0\].slackConfigs\[0\].apiURL contains a Slack webhook URL/,
      ),
    ]);
    expect(await messagesOf(RULE, [crd({ name: "alert-webhooks", key: "slack-url" })])).toEqual([]);
  });

  it("a Kubernetes Secret's data is where secrets belong", async () => {
    const s = resourceOf(k8s.core.v1.Secret, "api-secrets", {
      metadata: { name: "api-secrets" },
      stringData: { "db-password": "hunter2hunter2", url: DSN },
    });
    expect(await messagesOf(RULE, [s])).toEqual([]);
  });

  it("GitHub Actions variables fail when they hold a secret; Actions secrets are not checked", async () => {
    const bad = resourceOf(github.ActionsVariable, "deploy-token", {
      repository: "monkeytown",
      variableName: "DEPLOY_TOKEN",
      value: "abcdef123456",
    });
    const cred = resourceOf(github.ActionsEnvironmentVariable, "url", {
      repository: "monkeytown",
      environment: "production",
      variableName: "SENTRY_URL",
      value: DSN,
    });
    const ok = resourceOf(github.ActionsVariable, "region", {
      repository: "monkeytown",
      variableName: "REGION",
      value: "eu-west-1",
    });
    const secret = resourceOf(github.ActionsSecret, "token", {
      repository: "monkeytown",
      secretName: "DEPLOY_TOKEN",
      plaintextValue: "abcdef123456",
    });
    expect(await messagesOf(RULE, [bad, cred, ok, secret])).toEqual([
      expect.stringMatching(/GitHub Actions variable "DEPLOY_TOKEN" holds a secret/),
      expect.stringMatching(
        /GitHub Actions variable "SENTRY_URL" holds a secret: its value contains a URL or DSN with a password/,
      ),
    ]);
  });

  it("Docker build args, container env and labels are checked", async () => {
    const image = resourceOf(docker.Image, "api-image", {
      imageName: "ghcr.io/monkeytown/api:1.0.0",
      build: { context: "docker", args: { NPM_TOKEN: "npm-abc-123456", NODE_ENV: "production" } },
    });
    const container = resourceOf(docker.Container, "api", {
      image: "ghcr.io/monkeytown/api:1.0.0",
      envs: ["NODE_ENV=production", `GITHUB=${GH_TOKEN}`],
      labels: [{ label: "build.secret", value: "abcdefgh1234" }],
    });
    expect(await messagesOf(RULE, [image, container])).toEqual([
      expect.stringMatching(
        /docker.Image "ghcr.io\/monkeytown\/api:1.0.0": build arg "NPM_TOKEN" is plaintext secret material/,
      ),
      expect.stringMatching(
        /docker.Container "api": env "GITHUB" is plaintext secret material: its value contains a GitHub token/,
      ),
      expect.stringMatching(
        /docker.Container "api": label "build.secret" is plaintext secret material/,
      ),
    ]);
  });

  it("docker-build Image (what the program builds with): build args and image labels are checked, build secrets are not", async () => {
    const image = resourceOf(dockerbuild.Image, "registry-api", {
      tags: ["ghcr.io/monkeytown/monkeytown-api:0123456789ab"],
      push: true,
      context: { location: "docker/api" },
      buildArgs: { NODE_IMAGE: "node:20-alpine", NPM_TOKEN: "npm-abc-123456" },
      labels: { "org.opencontainers.image.revision": "0123456789ab", "deploy.token": GH_TOKEN },
      // Build secrets are where a credential belongs during a build: not stored in the image.
      secrets: { NPM_TOKEN: "npm-abc-123456" },
      registries: [{ address: "ghcr.io", username: "bot", password: "registry-password-1" }],
    });
    expect(await messagesOf(RULE, [image])).toEqual([
      expect.stringMatching(
        /^docker-build.Image "ghcr.io\/monkeytown\/monkeytown-api:0123456789ab": build arg "NPM_TOKEN" is plaintext secret material.*Fix: build args are stored in the image history.*pass it as a build secret \(docker-build `secrets`/,
      ),
      expect.stringMatching(
        /^docker-build.Image "ghcr.io\/monkeytown\/monkeytown-api:0123456789ab": label "deploy.token" is plaintext secret material: its value contains a GitHub token/,
      ),
    ]);
  });

  it("docker-build Image: the program's own build (base images, VITE_* settings) passes; untagged images are named by resource", async () => {
    const web = resourceOf(dockerbuild.Image, "registry-web", {
      tags: ["ghcr.io/monkeytown/monkeytown-web:0123456789ab"],
      push: true,
      context: { location: "docker/web" },
      dockerfile: { location: "docker/Dockerfile.web" },
      buildArgs: {
        NGINX_IMAGE: "nginx:1.27-alpine",
        VITE_APP_NAME: "Monkeytown",
        VITE_ENABLE_DEBUG: "false",
        VITE_BUILD_SOURCEMAP: "false",
        VITE_ENABLE_ANALYTICS: "true",
      },
    });
    expect(await messagesOf(RULE, [web])).toEqual([]);
    const untagged = resourceOf(dockerbuild.Image, "scratch-build", {
      push: false,
      buildArgs: { API_KEY: "abcdef123456" },
    });
    expect(await messagesOf(RULE, [untagged])).toEqual([
      expect.stringMatching(/^docker-build.Image "scratch-build": build arg "API_KEY"/),
    ]);
  });

  it("docker-build Image: build args or labels unknown in a preview are skipped, not guessed", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const image: TestResource = {
      type: "docker-build:index:Image",
      name: "registry-api",
      props: { tags: unknown, buildArgs: unknown, labels: { "build.secret": "abcdefgh1234" } },
    };
    expect(await messagesOf(RULE, [image])).toEqual([
      expect.stringMatching(/^docker-build.Image "registry-api": label "build.secret"/),
    ]);
  });

  it("the name pattern is configurable", async () => {
    const cm = resourceOf(k8s.core.v1.ConfigMap, "cfg", {
      metadata: { name: "cfg" },
      data: { SIGNING_SALT: "abcdef" },
    });
    expect(await messagesOf(RULE, [cm])).toEqual([]);
    const config = { [RULE]: { secretNamePattern: "(^|_)salt(_|$)" } };
    expect(await messagesOf(RULE, [cm], config)).toHaveLength(1);
  });

  it("extra value patterns are configurable", async () => {
    const cm = resourceOf(k8s.core.v1.ConfigMap, "cfg", {
      metadata: { name: "cfg" },
      data: { note: "mt_live_0123456789" },
    });
    expect(await messagesOf(RULE, [cm])).toEqual([]);
    expect(
      await messagesOf(RULE, [cm], { [RULE]: { extraValuePatterns: ["\\bmt_live_[0-9]{10}\\b"] } }),
    ).toEqual([expect.stringMatching(/its value contains a value matching/)]);
  });
});
