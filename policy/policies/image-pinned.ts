import { configSchema, workloadRule } from "../lib/rule";
import { describeDocker } from "../lib/docker";
import { UNKNOWN } from "../lib/values";
import { describeContainer } from "../lib/workload";

export interface ImagePinnedConfig {
  /** Require an `@sha256:` digest (production). */
  requireDigest: boolean;
  /** If non-empty, images must start with one of these prefixes (e.g. "ghcr.io/monkeytown/"). */
  allowedImagePrefixes: string[];
}

export interface ImageRef {
  name: string;
  tag?: string;
  digest?: string;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Splits `registry:5000/repo/name:tag@sha256:...`; a bare image ID (`sha256:...`) is a digest. */
export function parseImage(image: string): ImageRef {
  if (DIGEST_RE.test(image)) return { name: "", digest: image };
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

function problem(image: string, config: ImagePinnedConfig): string | undefined {
  const ref = parseImage(image);
  if (
    config.allowedImagePrefixes.length > 0 &&
    !config.allowedImagePrefixes.some((p) => image.startsWith(p))
  ) {
    return `image "${image}" is not from an allowed registry (${config.allowedImagePrefixes.join(", ")})`;
  }
  if (ref.digest !== undefined && !DIGEST_RE.test(ref.digest))
    return `image "${image}" has a malformed digest`;
  if (config.requireDigest && ref.digest === undefined) {
    return `image "${image}" is not pinned by digest; this stack requires @sha256:<digest> so that what was reviewed is what runs`;
  }
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined)
    return `image "${image}" has no tag, so it means :latest and changes under you`;
  if (ref.tag === "latest") return `image "${image}" uses the mutable :latest tag`;
  return undefined;
}

const FIX =
  "Fix: reference a versioned tag (ghcr.io/<org>/<image>:<version>), or image@sha256:<digest> (docker-build Image's `digest` output) where the stack requires digests.";

/** Images carry a tag other than `latest` or a digest; with `requireDigest`, a digest. */
export function imagePinned() {
  return workloadRule<ImagePinnedConfig>({
    name: "image-pinned",
    description: "Container images are pinned to a version tag or digest (digest where required).",
    checks:
      "A tag other than `latest`, or a digest; with `requireDigest`, a digest; optionally an allowed registry prefix. Docker: `image`.",
    enforcementLevel: "advisory",
    severity: "medium",
    peers:
      "kube-score container-image-tag; Polaris tagNotSpecified; kubesec (none); Kyverno disallow-latest-tag (best practices); checkov CKV_K8S_14, CKV_K8S_43 (digest)",
    remediationSteps:
      "Use image:<version> in dev, image@sha256:<digest> where requireDigest is set (production).",
    configSchema: configSchema({
      requireDigest: {
        type: "boolean",
        default: false,
        description: "Require @sha256 digests (set in production).",
      },
      allowedImagePrefixes: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "If non-empty, images must start with one of these prefixes.",
      },
    }),
    workload(w, config, report) {
      if (w.containers === UNKNOWN) return;
      for (const c of w.containers) {
        if (c.image === UNKNOWN) continue;
        if (c.image === undefined || c.image === "") {
          report(`${describeContainer(w, c)} has no image. ${FIX}`);
          continue;
        }
        const p = problem(c.image, config);
        if (p) report(`${describeContainer(w, c)}: ${p}. ${FIX}`);
      }
    },
    docker(c, config, report) {
      if (c.image === UNKNOWN || c.image === undefined) return;
      const p = problem(c.image, config);
      if (p) report(`${describeDocker(c)}: ${p}. ${FIX}`);
    },
  });
}
