import { Report, RuleInput, configSchema, resourceRule } from "../lib/rule";
import {
  DOCKER_BUILD_IMAGE,
  DOCKER_IMAGE,
  describeDocker,
  describeDockerImage,
  dockerContainer,
  dockerImageBuild,
} from "../lib/docker";
import {
  DEFAULT_IGNORE_NAME_PATTERN,
  DEFAULT_MEASURE_NAME_PATTERN,
  DEFAULT_SECRET_NAME_PATTERN,
  SecretMatcher,
  secretMatcher,
} from "../lib/secrets";
import { Maybe, UNKNOWN, entries, field, items, obj, str } from "../lib/values";
import { describeContainer, extractWorkload } from "../lib/workload";

export interface NoPlaintextSecretsConfig {
  secretNamePattern: string;
  ignoreNamePattern: string;
  measureNamePattern: string;
  extraValuePatterns: string[];
  annotationKeyAllowlist: string[];
}

const WHY =
  "Plaintext values end up in the rendered manifests, in `kubectl describe`, in the Pulumi state and preview diffs, and in the git history of whoever typed them.";

const GITHUB_VARIABLE_TYPES = new Set([
  "github:index/actionsVariable:ActionsVariable",
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  "github:index/actionsOrganizationVariable:ActionsOrganizationVariable",
]);
const DOCKER_CONTAINER = "docker:index/container:Container";
const CONFIG_MAP = /^kubernetes:core\/v1:ConfigMap$/;
const K8S_SECRET = /^kubernetes:core\/v1:Secret$/;

interface Ctx {
  m: SecretMatcher;
  allow: RegExp[];
  report: Report;
}

const allowlistCache = new Map<string, RegExp[]>();
function allowlist(patterns: readonly string[]): RegExp[] {
  const key = patterns.join("\u0000");
  let res = allowlistCache.get(key);
  if (!res) {
    res = patterns.map((p) => new RegExp(p));
    allowlistCache.set(key, res);
  }
  return res;
}

/** Allowlisted keys skip the name check; their values are still scanned for credentials. */
function judgeKey(ctx: Ctx, key: string, value: string): string | undefined {
  if (ctx.allow.some((re) => re.test(key))) {
    const cred = ctx.m.credentialIn(value);
    return cred ? `its value contains ${cred}` : undefined;
  }
  // Annotation keys are DNS-prefixed ("example.com/db-password"): judge the name part.
  return ctx.m.judge(key.slice(key.lastIndexOf("/") + 1), value);
}

function checkMetadata(
  where: string,
  meta: unknown,
  ctx: Ctx,
  what: "annotations" | "labels",
): void {
  const e = entries(field(obj(meta), what));
  if (e === UNKNOWN) return;
  for (const [k, v] of e) {
    if (typeof v !== "string") continue;
    const why = judgeKey(ctx, k, v);
    if (why) {
      ctx.report(
        `${where}: ${what.slice(0, -1)} "${k}" is plaintext secret material: ${why}. ${WHY} Fix: never put secrets in ${what}; keep them in a Kubernetes Secret created from a Pulumi secret.`,
      );
    }
  }
}

function checkKubernetes(r: RuleInput, ctx: Ctx): void {
  const w = extractWorkload(r.type, r.name, r.props);
  const meta = field(obj(r.props), "metadata");
  const kind = r.type.slice(r.type.lastIndexOf(":") + 1);
  const mname = str(field(obj(meta), "name"));
  const self = `${kind} "${typeof mname === "string" ? mname : r.name}"`;
  checkMetadata(self, meta, ctx, "annotations");
  checkMetadata(self, meta, ctx, "labels");
  if (w) {
    if (w.kind !== "Pod") {
      const tmpl = {
        annotations: w.podAnnotations === UNKNOWN ? {} : w.podAnnotations,
        labels: w.podLabels === UNKNOWN ? {} : w.podLabels,
      };
      checkMetadata(`${self} pod template`, tmpl, ctx, "annotations");
      checkMetadata(`${self} pod template`, tmpl, ctx, "labels");
    }
    if (w.containers === UNKNOWN) return;
    for (const c of w.containers) {
      const where = describeContainer(w, c);
      if (c.env !== UNKNOWN) {
        for (const e of c.env) {
          if (typeof e.name !== "string") continue;
          // A setting about a secret (TOKEN_TTL_SECONDS) is what a ConfigMap is for.
          if (e.fromConfigMap && ctx.m.secretName(e.name) && !ctx.m.measureName(e.name)) {
            ctx.report(
              `${where}: env "${e.name}" reads a secret-looking value from a ConfigMap (valueFrom.configMapKeyRef). ConfigMaps are not access-controlled or encrypted as Secrets are. Fix: move the value to a Kubernetes Secret and use valueFrom.secretKeyRef.`,
            );
            continue;
          }
          if (typeof e.value !== "string") continue;
          const why = ctx.m.judge(e.name, e.value);
          if (why) {
            ctx.report(
              `${where}: env "${e.name}" is a plaintext secret: ${why}. ${WHY} Fix: put the value in a Kubernetes Secret created from a Pulumi secret (config.requireSecret) and reference it with valueFrom.secretKeyRef.`,
            );
          }
        }
      }
      for (const key of ["command", "args"]) {
        const list = items(c.spec[key]);
        if (list === UNKNOWN) continue;
        list.forEach((a, i) => {
          const s = str(a);
          if (typeof s !== "string") return;
          const cred = ctx.m.credentialIn(s);
          if (cred) {
            ctx.report(
              `${where}: ${key}[${i}] contains ${cred}. Command lines are visible to anyone who can list pods or read /proc. Fix: pass the value through a Secret-backed env var or mounted file.`,
            );
          }
        });
      }
    }
    return;
  }
  if (CONFIG_MAP.test(r.type)) {
    const data = entries(field(obj(r.props), "data"));
    if (data === UNKNOWN) return;
    for (const [k, v] of data) {
      if (typeof v !== "string") continue;
      const why = ctx.m.judge(k, v);
      if (why) {
        ctx.report(
          `${self}: key "${k}" is plaintext secret material: ${why}. ConfigMaps are readable by anyone with view rights and are never encrypted at rest. ${WHY} Fix: move it to a Kubernetes Secret whose data comes from a Pulumi secret.`,
        );
      }
    }
    return;
  }
  // Any other object (Ingress, Service, CRDs such as AlertmanagerConfig): credential values
  // anywhere outside metadata. Names are not judged here; CRD schemas are too varied.
  const props = obj(r.props);
  if (props === UNKNOWN || props === undefined) return;
  for (const key of Object.keys(props)) {
    if (key === "metadata" || key === "apiVersion" || key === "kind") continue;
    scanValues(ctx.m, props[key], key, 0, (at, cred) =>
      ctx.report(
        `${self}: ${at} contains ${cred}. ${WHY} Fix: reference a Kubernetes Secret (most CRDs take a secret key reference, e.g. AlertmanagerConfig apiURL: { name, key }) instead of the literal.`,
      ),
    );
  }
}

const MAX_SCAN_DEPTH = 16;

/** Calls `found` for every string leaf (below `value`, at path `at`) that contains a credential. */
function scanValues(
  m: SecretMatcher,
  value: unknown,
  at: string,
  depth: number,
  found: (at: string, cred: string) => void,
): void {
  if (depth > MAX_SCAN_DEPTH) return;
  if (typeof value === "string") {
    const cred = m.credentialIn(value);
    if (cred) found(at, cred);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) scanValues(m, value[i], `${at}[${i}]`, depth + 1, found);
    return;
  }
  for (const k of Object.keys(value))
    scanValues(m, (value as Record<string, unknown>)[k], `${at}.${k}`, depth + 1, found);
}

function judgePairs(
  where: string,
  label: string,
  pairs: [string, Maybe<string>][],
  ctx: Ctx,
  fix: string,
): void {
  for (const [k, v] of pairs) {
    if (typeof v !== "string") continue;
    const why = label === "label" ? judgeKey(ctx, k, v) : ctx.m.judge(k, v);
    if (why)
      ctx.report(
        `${where}: ${label} "${k}" is plaintext secret material: ${why}. ${WHY} Fix: ${fix}`,
      );
  }
}

/**
 * No secret material in plaintext where a secret reference belongs: literal env values with
 * secret-looking names, credential-looking values under any name (env, command/args), ConfigMap
 * data, labels and annotations, Docker container env/labels and build args, and GitHub Actions
 * *variables* (which are printed in logs; secrets belong in Actions secrets).
 */
export function noPlaintextSecrets() {
  return resourceRule<NoPlaintextSecretsConfig>({
    name: "no-plaintext-secrets",
    description:
      "No secret material in plaintext env vars, ConfigMaps, labels, annotations, build args or CI variables.",
    checks:
      "Literal env values under secret-looking names (a secret word as its own token, `DB_PASSWORD`, `dbPassword`, or glued to a prefix as client libraries name them, `PGPASSWORD`, `GITHUBTOKEN`, `AWSSECRETACCESSKEY`; settings about a secret, `TOKEN_TTL_SECONDS=3600`, `PASSWORD_MIN_LENGTH=12`, `MAX_TOKENS=4096`, pass when the value is a number, duration or size); credential-looking values under any name (private key blocks, GitHub/AWS/Slack/Stripe/Google/npm/Pulumi/OpenAI tokens, JWTs, URLs/DSNs with a password) in env, command and args; secret-named env read from a ConfigMap; ConfigMap data; labels and annotations of every Kubernetes resource and pod template; credential values anywhere in other Kubernetes objects, custom resources included (an AlertmanagerConfig with an inline Slack webhook); Docker container env and labels; Docker build args (`docker.Image`, `docker-build.Image`, named by their first tag) and docker-build image labels (build `secrets` are the right place and pass); GitHub Actions variables (repository, environment, organization). Kubernetes Secret data is exempt.",
    enforcementLevel: "mandatory",
    severity: "critical",
    peers:
      "kubesec (none); Polaris (none); kube-score (none); checkov `CKV_K8S_35` (prefer secret files), `CKV_SECRET_*` (value patterns in files); Kyverno (no PSS rule); gitleaks/trufflehog-style value patterns",
    remediationSteps:
      "Read the value with config.requireSecret, put it in a Kubernetes Secret (or a GitHub Actions secret), and reference it (valueFrom.secretKeyRef, secrets.X); never as a literal.",
    configSchema: configSchema({
      secretNamePattern: {
        type: "string",
        default: DEFAULT_SECRET_NAME_PATTERN,
        description:
          "Case-insensitive regex over names normalised to snake_case (dbPassword -> db_password) that mark a value as secret.",
      },
      ignoreNamePattern: {
        type: "string",
        default: DEFAULT_IGNORE_NAME_PATTERN,
        description:
          "Names matching this regex point at a secret rather than hold one (PASSWORD_FILE, TOKEN_URL ...).",
      },
      measureNamePattern: {
        type: "string",
        default: DEFAULT_MEASURE_NAME_PATTERN,
        description:
          "Names matching this regex (over snake_case names) measure something about a secret (TOKEN_TTL_SECONDS, PASSWORD_MIN_LENGTH, MAX_TOKENS); with a number, duration or size as the value they are not secrets.",
      },
      extraValuePatterns: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Extra regexes; any value matching one is treated as a credential.",
      },
      annotationKeyAllowlist: {
        type: "array",
        items: { type: "string" },
        default: [
          "^policy\\.monkeytown\\.dev/",
          "^vault\\.hashicorp\\.com/",
          "^kubectl\\.kubernetes\\.io/last-applied-configuration$",
          "^secret\\.reloader\\.stakater\\.com/",
        ],
        description:
          "Label/annotation keys (regexes) exempt from the name check; their values are still scanned for credentials.",
      },
    }),
    appliesTo: (type) =>
      type.startsWith("kubernetes:") ||
      type === DOCKER_CONTAINER ||
      type === DOCKER_IMAGE ||
      type === DOCKER_BUILD_IMAGE ||
      GITHUB_VARIABLE_TYPES.has(type),
    check(r, config, report) {
      const m = secretMatcher(
        config.secretNamePattern,
        config.ignoreNamePattern,
        config.extraValuePatterns,
        config.measureNamePattern,
      );
      const ctx: Ctx = { m, allow: allowlist(config.annotationKeyAllowlist), report };
      if (r.type.startsWith("kubernetes:")) {
        if (K8S_SECRET.test(r.type)) {
          // Secret data is where secrets belong; only its metadata is checked.
          const meta = field(obj(r.props), "metadata");
          const n = str(field(obj(meta), "name"));
          const self = `Secret "${typeof n === "string" ? n : r.name}"`;
          checkMetadata(self, meta, ctx, "annotations");
          checkMetadata(self, meta, ctx, "labels");
          return;
        }
        checkKubernetes(r, ctx);
        return;
      }
      if (r.type === DOCKER_CONTAINER) {
        const c = dockerContainer(r.name, r.props);
        if (c.env !== UNKNOWN)
          judgePairs(
            describeDocker(c),
            "env",
            c.env,
            ctx,
            "pass secrets as Docker secrets or a mounted file from a Pulumi secret.",
          );
        if (c.labels !== UNKNOWN)
          judgePairs(
            describeDocker(c),
            "label",
            c.labels,
            ctx,
            "never put secrets in labels; they are readable by anyone who can inspect the container.",
          );
        return;
      }
      const image = dockerImageBuild(r.type, r.name, r.props);
      if (image) {
        if (image.buildArgs !== UNKNOWN)
          judgePairs(
            describeDockerImage(image),
            "build arg",
            image.buildArgs,
            ctx,
            "build args are stored in the image history (docker history shows them); pass it as a build secret (docker-build `secrets`, read with RUN --mount=type=secret) instead.",
          );
        if (image.labels !== UNKNOWN)
          judgePairs(
            describeDockerImage(image),
            "label",
            image.labels,
            ctx,
            "never put secrets in image labels; anyone who can pull the image reads them (docker inspect).",
          );
        return;
      }
      if (GITHUB_VARIABLE_TYPES.has(r.type)) {
        const p = obj(r.props);
        const name = str(field(p, "variableName"));
        const value = str(field(p, "value"));
        if (typeof name !== "string" || typeof value !== "string") return;
        const why = m.judge(name, value);
        if (why) {
          report(
            `GitHub Actions variable "${name}" holds a secret: ${why}. Actions variables are shown in plain text in the UI, API and workflow logs. Fix: use github.ActionsSecret (or ActionsEnvironmentSecret) with a Pulumi secret value, and read it as secrets.${name}.`,
          );
        }
      }
    },
  });
}
