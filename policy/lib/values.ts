/**
 * Reading resource properties the way the engine hands them over.
 *
 * During `pulumi preview` the engine passes a policy its resource's inputs wrapped in
 * `unknownCheckingProxy` (@pulumi/policy): touching a value that is not known yet (an Output of a
 * resource that does not exist yet) throws `UnknownValueError`, and the engine then reports the
 * whole policy as "can't run during preview" for that resource. That would silence every other
 * check on the resource, so the pack reads the object under the proxy instead, through the
 * accessors below, which turn the engine's unknown sentinels into the `UNKNOWN` marker. Rules skip
 * a check whose input is `UNKNOWN` (the same policy runs again during `pulumi up`, when the value
 * is known). Reading the raw object also avoids allocating a proxy per property access, which is
 * most of what keeps the pack under 0.2 ms per resource.
 *
 * The proxy's own escape hatch, the `__getSpecialProxyTarget` key, returns the deserialized object
 * it wraps; the sentinel strings are the engine's wire values for unknowns (the same constants as
 * `@pulumi/pulumi` `runtime/rpc` and `@pulumi/policy` `proxy`). `values.test.ts` checks both
 * against the real `unknownCheckingProxy`, so an upgrade that changes either fails the tests
 * instead of silently skipping checks.
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

/**
 * The props to read: the object under the engine's `unknownCheckingProxy` (and
 * `secretsPreservingProxy`) layers; plain values pass through. Secrets arrive already unwrapped to
 * their plaintext during validation (pulumi-policy#241), so they need no handling here. Nested
 * values are raw; read them with the accessors below, which map unknowns to `UNKNOWN`.
 */
export function unwrapProxy(value: unknown): unknown {
  let v = value;
  for (let i = 0; i < 4 && v !== null && typeof v === "object"; i++) {
    const o = v as Record<string, unknown>;
    if (o[PROXY_MARKER] !== true) break;
    v = o[PROXY_TARGET];
  }
  return v;
}

function sentinel(value: unknown): boolean {
  return typeof value === "string" && value.length === 36 && UNKNOWN_SENTINELS.has(value);
}

/** True for `UNKNOWN` and for a raw unknown sentinel. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || sentinel(value);
}

/** The value as a plain object, UNKNOWN, or undefined for anything else. */
export function obj(value: unknown): Maybe<Record<string, unknown>> {
  if (isUnknown(value)) return UNKNOWN;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return undefined;
}

/** The value as an array, UNKNOWN, or undefined. */
export function arr(value: unknown): Maybe<unknown[]> {
  if (isUnknown(value)) return UNKNOWN;
  return Array.isArray(value) ? value : undefined;
}

/** The value as a string (numbers are stringified, as YAML often carries them), UNKNOWN or undefined. */
export function str(value: unknown): Maybe<string> {
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** The value as a boolean, UNKNOWN or undefined. */
export function bool(value: unknown): Maybe<boolean> {
  if (isUnknown(value)) return UNKNOWN;
  return typeof value === "boolean" ? value : undefined;
}

/** The value as a number (numeric strings included), UNKNOWN or undefined. */
export function num(value: unknown): Maybe<number> {
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** Reads `o[key]` when `o` is a known object. */
export function field(o: Maybe<Record<string, unknown>>, key: string): unknown {
  if (o === UNKNOWN) return UNKNOWN;
  if (o === undefined) return undefined;
  const v = o[key];
  return sentinel(v) ? UNKNOWN : v;
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
