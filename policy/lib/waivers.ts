/**
 * Waivers: a resource opts out of one rule with an annotation (Kubernetes) or a label (Docker):
 *
 *   policy.monkeytown.dev/waive-<rule-name>: "reason=<why, who approved>; expires=YYYY-MM-DD"
 *
 * A waiver is valid when it names a rule of this pack, has a reason of at least `minReasonLength`
 * characters, and an expiry date that is today or later and no more than `maxDays` ahead. A valid
 * waiver silences exactly that rule on exactly that resource and is listed in the preview output
 * by `waivers-in-effect`; an invalid one does not silence anything and is reported by `waiver-valid`.
 */
import { Maybe, UNKNOWN, arr, entries, field, obj, str } from "./values";

export const WAIVER_PREFIX = "policy.monkeytown.dev/waive-";

export interface Waiver {
  rule: string;
  key: string;
  value: string;
  reason?: string;
  /** The expiry as written. */
  expires?: string;
  /** End of the expiry day, UTC, in ms. */
  expiresAt?: number;
  /** Why the waiver cannot be honoured; empty when it is well formed. */
  problems: string[];
}

export interface WaiverLimits {
  maxDays: number;
  minReasonLength: number;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses a waiver value against `now` (ms since epoch). `problems` lists what makes the waiver
 * unusable (no reason, no or bad expiry, expired, unknown fields): such a waiver silences nothing.
 * The configurable limits (`maxDays`, `minReasonLength`) are checked by `limitProblems`, which
 * `waiver-valid` reports; a waiver that only breaks a limit still applies, but is flagged.
 */
export function parseWaiver(rule: string, key: string, value: string, now: number): Waiver {
  const w: Waiver = { rule, key, value, problems: [] };
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      if (part.trim() !== "") w.problems.push(`"${part.trim()}" is not a key=value pair`);
      continue;
    }
    const k = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (k === "reason") w.reason = v;
    else if (k === "expires") w.expires = v;
    else w.problems.push(`unknown field "${k}" (only reason and expires are read)`);
  }
  if (!w.reason) {
    w.problems.push("it has no reason (add reason=<why, and who approved it>)");
  }
  if (!w.expires) {
    w.problems.push("it has no expiry (add expires=YYYY-MM-DD)");
  } else {
    const m = DATE_RE.exec(w.expires);
    const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
    const d = new Date(t);
    if (!m || Number.isNaN(t) || d.getUTCDate() !== Number(m[3])) {
      w.problems.push(`its expiry "${w.expires}" is not a date in YYYY-MM-DD form`);
    } else {
      w.expiresAt = t + DAY_MS - 1;
      if (w.expiresAt < now) {
        w.problems.push(`it expired on ${w.expires}`);
      }
    }
  }
  return w;
}

/** Limit breaches of an otherwise usable waiver. */
export function limitProblems(w: Waiver, now: number, limits: WaiverLimits): string[] {
  const out: string[] = [];
  if (w.reason && w.reason.length < limits.minReasonLength) {
    out.push(`its reason "${w.reason}" is shorter than ${limits.minReasonLength} characters`);
  }
  if (w.expiresAt !== undefined && w.expiresAt - now > (limits.maxDays + 1) * DAY_MS) {
    out.push(`its expiry ${w.expires} is more than ${limits.maxDays} days ahead`);
  }
  return out;
}

/**
 * The annotations (Kubernetes resources) or labels (Docker containers and images) a resource can
 * carry waivers in. `props` is unwrapped (`unwrapProxy`).
 */
export function waiverCarriers(type: string, props: unknown): [string, Maybe<string>][] {
  if (type.startsWith("kubernetes:")) {
    const e = entries(field(obj(field(obj(props), "metadata")), "annotations"));
    return e === UNKNOWN ? [] : e;
  }
  if (type === "docker:index/container:Container") {
    const list = arr(field(obj(props), "labels"));
    if (list === UNKNOWN || list === undefined) return [];
    return list.map((l): [string, Maybe<string>] => {
      const o = obj(l);
      const k = str(field(o, "label"));
      return [typeof k === "string" ? k : "", str(field(o, "value"))];
    });
  }
  return [];
}

/** Every waiver on a resource, parsed. */
export function waiversOf(type: string, props: unknown, now: number): Waiver[] {
  const out: Waiver[] = [];
  for (const [key, value] of waiverCarriers(type, props)) {
    if (!key.startsWith(WAIVER_PREFIX)) continue;
    const rule = key.slice(WAIVER_PREFIX.length);
    if (value === UNKNOWN) {
      out.push({ rule, key, value: "", problems: ["its value is not known during preview"] });
      continue;
    }
    out.push(parseWaiver(rule, key, value ?? "", now));
  }
  return out;
}

/** The valid waiver for `rule` on a resource, if any. */
export function activeWaiver(
  type: string,
  props: unknown,
  rule: string,
  now: number,
): Waiver | undefined {
  for (const w of waiversOf(type, props, now)) {
    if (w.rule === rule && w.problems.length === 0) return w;
  }
  return undefined;
}

/** The clock, replaceable in tests (`vi.setSystemTime` works too). */
export function now(): number {
  return Date.now();
}
