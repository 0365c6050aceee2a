/**
 * Reading resource properties the way the engine hands them over.
 *
 * During `pulumi preview` the engine passes a policy its resource's inputs wrapped in
 * `unknownCheckingProxy` (@pulumi/policy): touching a value that is not known yet (an Output of a
 * resource that does not exist yet) throws `UnknownValueError`, and the engine then reports the
 * whole policy as "can't run during preview" for that resource. That would silence every other
 * check on the resource, so the pack instead takes one plain snapshot of the props in which every
 * unknown value is replaced by the `UNKNOWN` marker. Rules skip a check whose input is `UNKNOWN`
 * (the same policy runs again during `pulumi up`, when the value is known).
 *
 * The snapshot uses the proxy's own escape hatch, the `__getSpecialProxyTarget` key, which returns
 * the deserialized object it wraps; the sentinel strings below are the engine's wire values for
 * unknowns (the same constants as `@pulumi/pulumi` `runtime/rpc` and `@pulumi/policy` `proxy`).
 * `values.test.ts` checks both against the real `unknownCheckingProxy`, so an upgrade that changes
 * either fails the tests instead of silently skipping checks.
 */

/** Marker for a value that is not known during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/** A value read from props: the value, UNKNOWN, or undefined when absent. */
export type Maybe<T> = T | Unknown | undefined;

/** Sentinels the engine uses for unknown values, by type. */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (and computed values in general)
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

const PROXY_MARKER = "__isSpecialProxy";
const PROXY_TARGET = "__getSpecialProxyTarget";

/** Unwraps an `unknownCheckingProxy` (or returns a plain value as is). */
export function unwrapProxy(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (v[PROXY_MARKER] === true) {
      return v[PROXY_TARGET];
    }
  }
  return value;
}

/**
 * A deep, plain copy of resource props with every unknown replaced by `UNKNOWN`. Secrets arrive
 * already unwrapped to their plaintext (pulumi-policy#241), so they need no handling here.
 */
export function snapshot(value: unknown): unknown {
  return copy(unwrapProxy(value), 0);
}

function copy(value: unknown, depth: number): unknown {
  if (typeof value === "string") {
    return UNKNOWN_SENTINELS.has(value) ? UNKNOWN : value;
  }
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (depth > 64) {
    return UNKNOWN;
  }
  const raw = unwrapProxy(value);
  if (Array.isArray(raw)) {
    const out = new Array<unknown>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      out[i] = copy(raw[i], depth + 1);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw as object)) {
    out[key] = copy((raw as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** The value as a plain object, UNKNOWN, or undefined for anything else. */
export function obj(value: unknown): Maybe<Record<string, unknown>> {
  if (value === UNKNOWN) return UNKNOWN;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return undefined;
}

/** The value as an array, UNKNOWN, or undefined. */
export function arr(value: unknown): Maybe<unknown[]> {
  if (value === UNKNOWN) return UNKNOWN;
  return Array.isArray(value) ? value : undefined;
}

/** The value as a string (numbers are stringified, as YAML often carries them), UNKNOWN or undefined. */
export function str(value: unknown): Maybe<string> {
  if (value === UNKNOWN) return UNKNOWN;
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** The value as a boolean, UNKNOWN or undefined. */
export function bool(value: unknown): Maybe<boolean> {
  if (value === UNKNOWN) return UNKNOWN;
  return typeof value === "boolean" ? value : undefined;
}

/** The value as a number (numeric strings included), UNKNOWN or undefined. */
export function num(value: unknown): Maybe<number> {
  if (value === UNKNOWN) return UNKNOWN;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** Reads `o[key]` when `o` is a known object. */
export function field(o: Maybe<Record<string, unknown>>, key: string): unknown {
  if (o === UNKNOWN) return UNKNOWN;
  return o === undefined ? undefined : o[key];
}

/** Known array items only (an unknown array yields UNKNOWN). */
export function items(value: unknown): unknown[] | Unknown {
  const a = arr(value);
  if (a === UNKNOWN) return UNKNOWN;
  return a ?? [];
}

/** String map entries of a `{[k]: string}` object; unknown values come through as UNKNOWN. */
export function entries(value: unknown): [string, Maybe<string>][] | Unknown {
  const o = obj(value);
  if (o === UNKNOWN) return UNKNOWN;
  if (o === undefined) return [];
  return Object.keys(o).map((k) => [k, str(o[k])]);
}
