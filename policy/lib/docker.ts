/**
 * The views of Docker resources that rules check: a `docker.Container` (@pulumi/docker 5.x input
 * names), and an image build, from either `docker.Image` (@pulumi/docker) or `Image` of
 * @pulumi/docker-build (0.0.x), the provider the program builds its images with.
 */
import type * as docker from "@pulumi/docker";
import type * as dockerbuild from "@pulumi/docker-build";
import type { Unwrap } from "@pulumi/pulumi";
import { Maybe, UNKNOWN, Unknown, arr, bool, entries, field, items, num, obj, str } from "./values";

export type DockerContainerArgs = Unwrap<docker.ContainerArgs>;
export type DockerImageArgs = Unwrap<docker.ImageArgs>;
export type DockerBuildImageArgs = Unwrap<dockerbuild.ImageArgs>;

/** Type token of @pulumi/docker's `Image`. */
export const DOCKER_IMAGE = "docker:index/image:Image";
/** Type token of @pulumi/docker-build's `Image`. */
export const DOCKER_BUILD_IMAGE = "docker-build:index:Image";

export interface DockerContainer {
  /** `name` input, else the Pulumi resource name. */
  name: string;
  image: Maybe<string>;
  user: Maybe<string>;
  privileged: Maybe<boolean>;
  readOnly: Maybe<boolean>;
  networkMode: Maybe<string>;
  pidMode: Maybe<string>;
  ipcMode: Maybe<string>;
  memory: Maybe<number>;
  cpuShares: Maybe<number>;
  cpus: Maybe<string>;
  capAdd: string[] | Unknown;
  capDrop: string[] | Unknown;
  securityOpts: string[] | Unknown;
  /** `envs` split at the first "=". */
  env: [string, Maybe<string>][] | Unknown;
  labels: [string, Maybe<string>][] | Unknown;
  /** Host paths bind-mounted into the container (volumes[].hostPath, mounts[type=bind].source). */
  hostPaths: string[] | Unknown;
  healthcheck: Maybe<Record<string, unknown>>;
}

function strings(v: unknown): string[] | Unknown {
  const list = items(v);
  if (list === UNKNOWN) return UNKNOWN;
  const out: string[] = [];
  for (const x of list) {
    const s = str(x);
    if (s === UNKNOWN) return UNKNOWN;
    if (s !== undefined) out.push(s);
  }
  return out;
}

export function dockerContainer(resourceName: string, props: unknown): DockerContainer {
  const p = obj(props);
  const caps = obj(field(p, "capabilities"));
  const envs = strings(field(p, "envs"));
  const labelList = arr(field(p, "labels"));
  const hostPaths: string[] | Unknown = (() => {
    const out: string[] = [];
    const vols = items(field(p, "volumes"));
    const mounts = items(field(p, "mounts"));
    if (vols === UNKNOWN || mounts === UNKNOWN) return UNKNOWN;
    for (const v of vols) {
      const hp = str(field(obj(v), "hostPath"));
      if (hp === UNKNOWN) return UNKNOWN;
      if (hp) out.push(hp);
    }
    for (const m of mounts) {
      const o = obj(m);
      const t = str(field(o, "type"));
      const src = str(field(o, "source"));
      if (t === UNKNOWN || src === UNKNOWN) return UNKNOWN;
      if (t === "bind" && src) out.push(src);
    }
    return out;
  })();
  const n = str(field(p, "name"));
  return {
    name: typeof n === "string" ? n : resourceName,
    image: str(field(p, "image")),
    user: str(field(p, "user")),
    privileged: bool(field(p, "privileged")),
    readOnly: bool(field(p, "readOnly")),
    networkMode: str(field(p, "networkMode")),
    pidMode: str(field(p, "pidMode")),
    ipcMode: str(field(p, "ipcMode")),
    memory: num(field(p, "memory")),
    cpuShares: num(field(p, "cpuShares")),
    cpus: str(field(p, "cpus")),
    capAdd: caps === UNKNOWN ? UNKNOWN : strings(field(caps, "adds")),
    capDrop: caps === UNKNOWN ? UNKNOWN : strings(field(caps, "drops")),
    securityOpts: strings(field(p, "securityOpts")),
    env:
      envs === UNKNOWN
        ? UNKNOWN
        : envs.map((e): [string, string] => {
            const i = e.indexOf("=");
            return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)];
          }),
    labels:
      labelList === UNKNOWN
        ? UNKNOWN
        : (labelList ?? []).map((l): [string, Maybe<string>] => {
            const o = obj(l);
            const k = str(field(o, "label"));
            return [typeof k === "string" ? k : "", str(field(o, "value"))];
          }),
    hostPaths,
    healthcheck: obj(field(p, "healthcheck")),
  };
}

export function describeDocker(c: DockerContainer): string {
  return `docker.Container "${c.name}"`;
}

/**
 * `securityOpts` as lower-cased [key, value] pairs: Docker accepts both `key=value` and the older
 * `key:value` (`apparmor:unconfined`, `label:disable`); `label=type:spc_t` keeps its inner colon.
 */
export function dockerSecurityOpts(c: DockerContainer): [string, string][] | Unknown {
  if (c.securityOpts === UNKNOWN) return UNKNOWN;
  return c.securityOpts.map((o): [string, string] => {
    const t = o.trim();
    const i = t.search(/[=:]/);
    return i < 0 ? [t.toLowerCase(), ""] : [t.slice(0, i).toLowerCase(), t.slice(i + 1).trim()];
  });
}

/** An image build, whichever provider runs it. */
export interface DockerImageBuild {
  /** The SDK class, for messages: `docker.Image` or `docker-build.Image`. */
  kind: "docker.Image" | "docker-build.Image";
  /** The image's name: docker-build's first tag, docker's `imageName`, else the resource name. */
  name: string;
  /** Build arguments (docker-build `buildArgs`, docker `build.args`): kept in the image history. */
  buildArgs: [string, Maybe<string>][] | Unknown;
  /** Labels written into the image config (docker-build `labels`; docker.Image has none). */
  labels: [string, Maybe<string>][] | Unknown;
}

/** The image-build view of a `docker.Image` or docker-build `Image`; undefined for other types. */
export function dockerImageBuild(
  type: string,
  resourceName: string,
  props: unknown,
): DockerImageBuild | undefined {
  const p = obj(props);
  if (type === DOCKER_IMAGE) {
    const n = str(field(p, "imageName"));
    return {
      kind: "docker.Image",
      name: typeof n === "string" ? n : resourceName,
      buildArgs: entries(field(obj(field(p, "build")), "args")),
      labels: [],
    };
  }
  if (type === DOCKER_BUILD_IMAGE) {
    const tags = items(field(p, "tags"));
    const first = tags === UNKNOWN ? undefined : str(tags[0]);
    return {
      kind: "docker-build.Image",
      name: typeof first === "string" ? first : resourceName,
      buildArgs: entries(field(p, "buildArgs")),
      labels: entries(field(p, "labels")),
    };
  }
  return undefined;
}

export function describeDockerImage(i: DockerImageBuild): string {
  return `${i.kind} "${i.name}"`;
}
