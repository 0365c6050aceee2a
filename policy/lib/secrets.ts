/**
 * Spotting secret material in plaintext. Two independent signals:
 * - a *name* that says "secret" (password, token, api key, credential, private key ...), paired
 *   with a non-empty literal value;
 * - a *value* that is a credential whatever it is called: private key blocks, well-known token
 *   formats, URLs/DSNs that carry a password.
 * A policy cannot see whether a value was marked secret (pulumi-policy#241): a secret Output still
 * arrives as plaintext, which is why the pack flags literal values in places where a reference
 * (secretKeyRef, a Pulumi secret in a Kubernetes Secret, a GitHub Actions secret) belongs.
 */

/**
 * Secret words as a token of their own (`DB_PASSWORD`, `api-key`, `dbPassword`), or glued to a
 * prefix with no separator, as several client libraries name them (`PGPASSWORD` of libpq,
 * `DBPASSWORD`, `GITHUBTOKEN`, `MAILGUNAPIKEY`, `AWSSECRETACCESSKEY`). Only unambiguous words may
 * be glued: not `pass` (BYPASS, COMPASS) nor a bare `key` (HOTKEY).
 */
export const DEFAULT_SECRET_NAME_PATTERN =
  "(^|_)(pass(word|wd|phrase)?|pwd|secrets?|tokens?|api_?keys?|access_?keys?|secret_?keys?|private_?keys?|credentials?|creds|client_?secret|auth_?token|bearer|session_?key|signing_?key|encryption_?key|master_?key|license_?key|webhook_?secret|dsn_?password)(_|$)" +
  "|[a-z0-9](password|passwd|passphrase|secrets?|tokens?|apikeys?|accesskeys?|secretkeys?|privatekeys?|licensekey|credentials?)(_|$)";

/** Names that contain a secret word but name a pointer to one, not the secret itself. */
export const DEFAULT_IGNORE_NAME_PATTERN =
  "(_(file|path|dir|name|ref|id|url|endpoint|ttl|expiry|lifetime|length|timeout|enabled|header|type|kind|version|issuer|audience|mount|key_id|hash_algorithm))$|^(secret|token)_?(name|ref)$";

/**
 * Names of settings *about* a secret: a token that measures (a duration, a size, a count, a limit),
 * e.g. `TOKEN_TTL_SECONDS`, `PASSWORD_MIN_LENGTH`, `SECRET_ROTATION_DAYS`, `MAX_TOKENS`. Such a name
 * is harmless only with a quantity for a value (see {@link QUANTITY_VALUE_RE}): `PASSWORD_MIN_LENGTH`
 * holding `hunter2` is still reported.
 */
export const DEFAULT_MEASURE_NAME_PATTERN =
  "(^|_)(ttl|timeout|expiry|expires|expiration|lifetime|age|length|len|size|bytes|count|limit|max|min|num|rounds|iterations|retries|attempts|interval|period|duration|rotation|ms|millis|seconds|secs|sec|minutes|mins|hours|hrs|days|weeks|months|years)(_|$)";

/** A quantity: a number, a duration (`15m`, `1h30m`, `PT1H`), a size (`64Mi`, `10MB`) or a percentage. */
export const QUANTITY_VALUE_RE =
  /^(\d+(\.\d+)?\s*(%|[kmgtp]i?b?|b|bytes?)?|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+|P(?=.)(\d+[YMWD])*(T(\d+(\.\d+)?[HMS])+)?)$/i;

/** Values that say "no secret here" even under a secret-looking name. */
const HARMLESS_VALUE_RE = /^(true|false|yes|no|on|off|enabled|disabled|none|null|\*+)$/i;

/** Built-in credential formats (value patterns). */
export const CREDENTIAL_PATTERNS: readonly { name: string; re: RegExp }[] = [
  { name: "a private key block", re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { name: "a GitHub token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { name: "an AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  {
    name: "a Slack webhook URL",
    re: /hooks\.slack\.com\/services\/T[A-Za-z0-9]+\/B[A-Za-z0-9]+\/[A-Za-z0-9]+/,
  },
  { name: "a Stripe key", re: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
  { name: "a Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: "an npm token", re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: "a Pulumi access token", re: /\bpul-[a-f0-9]{40}\b/ },
  { name: "an OpenAI-style API key", re: /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}/ },
  {
    name: "a JSON Web Token",
    re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
  },
  {
    name: "a URL or DSN with a password",
    // scheme://user:password@host, where the password is not a $(VAR)/${VAR} reference or a mask.
    re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:(?![$*]|%24)[^\s/@]+@[^\s/]/i,
  },
];

/** Cheap pre-filter: every credential pattern contains one of these. */
const PREFILTER_RE =
  /-----BEGIN|gh[pousr]_|github_pat_|AKIA|ASIA|xox|hooks\.slack|k_live_|k_test_|AIza|npm_|pul-|sk-|eyJ|:\/\//;

export interface SecretMatcher {
  /** True when `name` looks like it names a secret. */
  secretName(name: string): boolean;
  /** True when `name` names a setting that measures something (a TTL, a length, a count). */
  measureName(name: string): boolean;
  /** The credential format `value` contains, if any. */
  credentialIn(value: string): string | undefined;
  /** Why a name/value pair is plaintext secret material, or undefined. */
  judge(name: string, value: string): string | undefined;
}

const matcherCache = new Map<string, SecretMatcher>();

/** Normalises `dbPassword`, `db-password`, `DB.PASSWORD` to `db_password`. */
export function normaliseName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toLowerCase();
}

export function secretMatcher(
  namePattern: string = DEFAULT_SECRET_NAME_PATTERN,
  ignorePattern: string = DEFAULT_IGNORE_NAME_PATTERN,
  extraValuePatterns: readonly string[] = [],
  measurePattern: string = DEFAULT_MEASURE_NAME_PATTERN,
): SecretMatcher {
  const cacheKey = [namePattern, ignorePattern, measurePattern, ...extraValuePatterns].join(
    "\u0000",
  );
  const cached = matcherCache.get(cacheKey);
  if (cached) return cached;
  const nameRe = new RegExp(namePattern, "i");
  const ignoreRe = ignorePattern ? new RegExp(ignorePattern, "i") : undefined;
  const measureRe = measurePattern ? new RegExp(measurePattern, "i") : undefined;
  const extra = extraValuePatterns.map((p) => ({
    name: `a value matching /${p}/`,
    re: new RegExp(p),
  }));
  const nameCache = new Map<string, boolean>();
  const m: SecretMatcher = {
    secretName(name) {
      let hit = nameCache.get(name);
      if (hit === undefined) {
        const n = normaliseName(name);
        hit = nameRe.test(n) && !(ignoreRe?.test(n) ?? false);
        if (nameCache.size < 10_000) nameCache.set(name, hit);
      }
      return hit;
    },
    measureName(name) {
      return measureRe?.test(normaliseName(name)) ?? false;
    },
    credentialIn(value) {
      if (value.length >= 8 && PREFILTER_RE.test(value)) {
        for (const p of CREDENTIAL_PATTERNS) if (p.re.test(value)) return p.name;
      }
      for (const p of extra) if (p.re.test(value)) return p.name;
      return undefined;
    },
    judge(name, value) {
      const cred = m.credentialIn(value);
      if (cred) return `its value contains ${cred}`;
      if (
        value !== "" &&
        !HARMLESS_VALUE_RE.test(value) &&
        m.secretName(name) &&
        !(QUANTITY_VALUE_RE.test(value) && m.measureName(name))
      ) {
        return `its name "${name}" says it holds a secret and it has a literal value`;
      }
      return undefined;
    },
  };
  matcherCache.set(cacheKey, m);
  return m;
}
