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

export const DEFAULT_SECRET_NAME_PATTERN =
  "(^|_)(pass(word|wd|phrase)?|pwd|secrets?|tokens?|api_?keys?|access_?keys?|secret_?keys?|private_?keys?|credentials?|creds|client_?secret|auth_?token|bearer|session_?key|signing_?key|encryption_?key|master_?key|webhook_?secret|dsn_?password)(_|$)";

/** Names that contain a secret word but name a pointer to one, not the secret itself. */
export const DEFAULT_IGNORE_NAME_PATTERN =
  "(_(file|path|dir|name|ref|id|url|endpoint|ttl|expiry|lifetime|length|timeout|enabled|header|type|kind|version|issuer|audience|mount|key_id|hash_algorithm))$|^(secret|token)_?(name|ref)$";

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
): SecretMatcher {
  const cacheKey = `${namePattern}\u0000${ignorePattern}\u0000${extraValuePatterns.join("\u0000")}`;
  const cached = matcherCache.get(cacheKey);
  if (cached) return cached;
  const nameRe = new RegExp(namePattern, "i");
  const ignoreRe = ignorePattern ? new RegExp(ignorePattern, "i") : undefined;
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
      if (value !== "" && !HARMLESS_VALUE_RE.test(value) && m.secretName(name)) {
        return `its name "${name}" says it holds a secret and it has a literal value`;
      }
      return undefined;
    },
  };
  matcherCache.set(cacheKey, m);
  return m;
}
