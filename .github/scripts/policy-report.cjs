// The policy findings of one stack's preview, as markdown: for the stack's pull-request comment
// (pr-comment.cjs), the job summary and `npm run preview:all` (scripts/preview-all.sh).
//
// Input is what `pulumi preview --event-log <file>` writes (PULUMI_DEBUG_COMMANDS=true enables the
// flag): one apitype.EngineEvent per line. `pulumi preview --json` (CLI v3.259.0) leaves policy events
// out of its digest, so the event log is the engine's one structured record of the findings:
//   policyEvent      {resourceUrn?, message, policyName, policyPackName, policyPackVersion,
//                     enforcementLevel: "mandatory" | "warning" (advisory), severity?}
//                    message = the rule's description, a newline, then what the rule reported
//                    (this pack ends each report with "Fix: ..."), in Pulumi colour markup
//   policyRemediationEvent {resourceUrn?, policyName, ...}: the pack rewrote a resource's inputs
//   diagnosticEvent  {urn?, prefix?, message, severity: "error" | "warning" | "info" | ...}
//                    a config RunError and engine errors arrive here with severity "error"
//   policyAnalyzeSummaryEvent / policyAnalyzeStackSummaryEvent / policyRemediateSummaryEvent
//                    {resourceUrn?, policyPackName, policyPackVersion, passed[], failed[]}: the pack and
//                    the rules that ran, also when nothing was found
//   summaryEvent     {resourceChanges, PolicyPacks: {"<name>|<source>|<path>": version}, result}
//                    a mandatory finding fails the preview with one more diagnostic, "preview failed",
//                    which is the policy verdict and not an error of its own
// Errors that stop the CLI before the engine runs (backend, passphrase, missing stack) are not in the
// event log; they are the "error: " lines of the CLI's output, which the caller passes as `log`.
//
// Waivers (policy/lib/waivers.ts) show up as findings of two rules of the pack: a valid waiver
// silences its rule on that resource and is listed by `waivers-in-effect`; an invalid one silences
// nothing and is reported by `waiver-valid` ("Waiver "<key>" on <name> is not valid: ...").
//
// Run directly, it prints the markdown of one stack:
//   node .github/scripts/policy-report.cjs --stack <stack> --events <file> [--log <file>]
//        [--outcome success|failure] [--limit <characters>] [--sha <commit>] [--run-url <url>]
"use strict";

const fs = require("fs");

/** GitHub's limit on the body of an issue or pull-request comment, in characters. */
const COMMENT_LIMIT = 65536;
/** GitHub's limit on what one step writes to $GITHUB_STEP_SUMMARY (1 MiB). */
const STEP_SUMMARY_LIMIT = 1024 * 1024;
/** The fold that holds the preview's own output; pr-comment.cjs finds its comment by it. */
const LOG_SUMMARY = "<summary>Pulumi report</summary>";
/** The annotation (or label) prefix of a waiver: policy/lib/waivers.ts WAIVER_PREFIX. */
const WAIVER_PREFIX = "policy.monkeytown.dev/waive-";
const WAIVERS_IN_EFFECT = "waivers-in-effect";
const WAIVER_VALID = "waiver-valid";
/** Levels in the order the report lists them: what blocks the merge first. */
const LEVELS = ["mandatory", "advisory", "remediated"];
/** At most this many characters of error text, so the findings always have room. */
const ERROR_CHARS = 16000;
const NOTE_RESERVE = 400;

/** Removes Pulumi's colour markup (`<{%fg 1%}>`) and ANSI escapes. */
function stripColors(text) {
  return String(text)
    .replace(/<\{%[^%]*%\}>/g, "")
    .replace(/\u001b\[[0-9;]*m/g, "");
}

/** The engine events of an event log (JSON lines); lines that do not parse are counted, not fatal. */
function parseEvents(text) {
  const events = [];
  let unreadable = 0;
  for (const line of String(text ?? "").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const event = JSON.parse(line);
      if (event && typeof event === "object") events.push(event);
      else unreadable += 1;
    } catch {
      unreadable += 1; // e.g. the last line of a log the engine was still writing
    }
  }
  return { events, unreadable };
}

/** Type (without parent types) and name of a URN; the stack itself when there is none. */
function parseUrn(urn, stack) {
  if (!urn) return { type: "(stack)", name: stack ?? "" };
  const parts = String(urn).split("::");
  if (parts.length < 4) return { type: "", name: String(urn) };
  const qualifiedType = parts[2];
  return {
    type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1),
    name: parts.slice(3).join("::"),
  };
}

/** "advisory" for the engine's "warning"; other levels as they are. */
function levelOf(enforcementLevel) {
  return enforcementLevel === "warning" ? "advisory" : String(enforcementLevel ?? "");
}

/** Description, what was found and the fix, from a policy event's message. */
function splitMessage(raw) {
  const text = stripColors(raw).replace(/\r/g, "").trim();
  const nl = text.indexOf("\n");
  const description = nl < 0 ? text : text.slice(0, nl).trim();
  const detail = nl < 0 ? text : text.slice(nl + 1).trim();
  const at = detail.search(/(?:^|\s)Fix: /);
  if (at < 0) return { description, message: detail, fix: "" };
  return {
    description,
    message: detail.slice(0, at).trim(),
    fix: detail.slice(detail.indexOf("Fix: ", at) + "Fix: ".length).trim(),
  };
}

/** What a `waivers-in-effect` or `waiver-valid` finding says about a waiver, or undefined. */
function waiverRecord(policyName, message) {
  if (policyName === WAIVERS_IN_EFFECT) {
    const m = /rule "([^"]+)" is skipped until (\S+?)\.(?:\s|$)/.exec(message);
    return m ? { kind: "applies", rule: m[1], until: m[2] } : undefined;
  }
  if (policyName === WAIVER_VALID) {
    const key = /Waiver "([^"]+)"/.exec(message);
    if (!key) return undefined;
    const rule = key[1].startsWith(WAIVER_PREFIX) ? key[1].slice(WAIVER_PREFIX.length) : key[1];
    const problems = /is not valid: ([\s\S]*?)\. It (?:does not silence|still applies)/.exec(
      message,
    );
    const stillApplies = message.includes("It still applies");
    return {
      kind: stillApplies ? "applies-invalid" : "invalid",
      rule,
      problems: problems ? problems[1] : "",
    };
  }
  return undefined;
}

/** The waiver cell (markdown) of a finding (see the file comment for how waivers show up). */
function waiverText(finding, invalidByResourceRule) {
  const record = finding.waiverRecord;
  if (finding.rule === WAIVERS_IN_EFFECT && record) {
    return `applies: ${code(record.rule)} skipped until ${cell(record.until)}`;
  }
  if (finding.rule === WAIVER_VALID && record) {
    return record.kind === "applies-invalid"
      ? `waiver of ${code(record.rule)} applies, but breaks a limit`
      : `waiver of ${code(record.rule)} is invalid: it silences nothing`;
  }
  const invalid = invalidByResourceRule.get(`${finding.urn}\u0000${finding.rule}`);
  if (invalid) return `does not apply: ${cell(invalid.problems || "the waiver is invalid")}`;
  return "none";
}

/** The engine's closing error when a mandatory policy failed the preview: it adds nothing. */
const POLICY_FAILED = /^(?:preview|update) failed$/;

/**
 * The error text of the diagnostics, or of the CLI's output ("error: ..." to the end of its
 * paragraph). With `policyFailed`, the engine's own "preview failed" is not an error of its own.
 */
function errorsOf(events, log, policyFailed) {
  const fromEvents = [];
  for (const e of events) {
    const d = e.diagnosticEvent;
    if (!d || d.severity !== "error") continue;
    const text = stripColors(d.message).replace(/\r/g, "").trim();
    if (policyFailed && POLICY_FAILED.test(text)) continue;
    if (text !== "" && !fromEvents.includes(text)) fromEvents.push(text);
  }
  const fromLog = [];
  const lines = stripColors(log ?? "")
    .replace(/\r/g, "")
    .split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^error: /.test(lines[i])) continue;
    const block = [lines[i].slice("error: ".length)];
    for (
      let j = i + 1;
      j < lines.length && lines[j].trim() !== "" && !/^\S+: /.test(lines[j]);
      j++
    ) {
      block.push(lines[j]);
      i = j;
    }
    const text = block.join("\n").trim();
    if (text !== "" && !fromLog.includes(text)) fromLog.push(text);
  }
  return { fromEvents, fromLog };
}

function compareFindings(a, b) {
  return (
    LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) ||
    a.rule.localeCompare(b.rule) ||
    a.name.localeCompare(b.name) ||
    a.type.localeCompare(b.type) ||
    a.message.localeCompare(b.message)
  );
}

/**
 * What one preview found: its outcome, the policy findings (mandatory first), the errors that are
 * not policy findings, and the policy packs that ran.
 * `outcome` is the step's ("success" or "failure"); without it, it is read from the events.
 */
function readPreview({ events: eventsText, log = "", outcome, stack } = {}) {
  const { events, unreadable } = parseEvents(eventsText);
  const findings = [];
  const packs = new Map();
  const rules = new Set();
  const checked = new Set();
  let summary;
  for (const e of events) {
    if (e.policyEvent) {
      const p = e.policyEvent;
      const { description, message, fix } = splitMessage(p.message);
      const { type, name } = parseUrn(p.resourceUrn, stack);
      findings.push({
        level: levelOf(p.enforcementLevel),
        severity: p.severity ?? "",
        rule: String(p.policyName ?? ""),
        pack: String(p.policyPackName ?? ""),
        packVersion: String(p.policyPackVersion ?? ""),
        urn: p.resourceUrn ?? "",
        type,
        name,
        description,
        message,
        fix,
        waiverRecord: waiverRecord(p.policyName, message),
      });
      if (p.policyPackName) packs.set(p.policyPackName, p.policyPackVersion ?? "");
    } else if (e.policyRemediationEvent) {
      const p = e.policyRemediationEvent;
      const { type, name } = parseUrn(p.resourceUrn, stack);
      findings.push({
        level: "remediated",
        severity: "",
        rule: String(p.policyName ?? ""),
        pack: String(p.policyPackName ?? ""),
        packVersion: String(p.policyPackVersion ?? ""),
        urn: p.resourceUrn ?? "",
        type,
        name,
        description: "",
        message: "The policy pack rewrote this resource's inputs before the preview.",
        fix: "Make the program produce what the rule asks for, so nothing needs rewriting.",
        waiverRecord: undefined,
      });
    } else if (
      e.policyAnalyzeSummaryEvent ||
      e.policyAnalyzeStackSummaryEvent ||
      e.policyRemediateSummaryEvent
    ) {
      const s =
        e.policyAnalyzeSummaryEvent ||
        e.policyAnalyzeStackSummaryEvent ||
        e.policyRemediateSummaryEvent;
      if (s.policyPackName) packs.set(s.policyPackName, s.policyPackVersion ?? "");
      for (const rule of [...(s.passed ?? []), ...(s.failed ?? [])]) rules.add(rule);
      if (s.resourceUrn) checked.add(s.resourceUrn);
    } else if (e.summaryEvent) {
      summary = e.summaryEvent;
    }
  }
  // The summary names each pack "<name>|<source>|<path>": only when no policy event named it.
  if (packs.size === 0 && summary) {
    for (const [name, version] of Object.entries(summary.PolicyPacks ?? {})) {
      packs.set(name.split("|")[0], String(version).replace(/^v/, ""));
    }
  }
  const invalidByResourceRule = new Map();
  for (const f of findings) {
    if (f.rule === WAIVER_VALID && f.waiverRecord && f.waiverRecord.kind === "invalid") {
      invalidByResourceRule.set(`${f.urn}\u0000${f.waiverRecord.rule}`, f.waiverRecord);
    }
  }
  for (const f of findings) f.waiver = waiverText(f, invalidByResourceRule);
  findings.sort(compareFindings);

  const mandatory = findings.filter((f) => f.level === "mandatory").length;
  const { fromEvents, fromLog } = errorsOf(events, log, mandatory > 0);
  const resultFailed = summary !== undefined && summary.result === "failed";
  const failed =
    outcome !== undefined
      ? outcome !== "success"
      : mandatory > 0 || fromEvents.length > 0 || resultFailed || summary === undefined;
  // A failure with mandatory findings and no error of its own is the policy verdict; the CLI's own
  // closing "error:" lines then only repeat that the preview failed.
  const errors = fromEvents.length > 0 ? fromEvents : failed && mandatory === 0 ? fromLog : [];
  return {
    stack,
    failed,
    findings,
    errors,
    packs: [...packs].map(([name, version]) => ({ name, version })),
    rules: rules.size,
    resourcesChecked: checked.size,
    resourceChanges: summary ? (summary.resourceChanges ?? {}) : undefined,
    eventCount: events.length,
    unreadable,
    log: String(log ?? ""),
  };
}

// ---- markdown ---------------------------------------------------------------------------------

/** Text for a table cell: no HTML, no markdown emphasis or links, no pipe, no line break. */
function cell(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|~])/g, "\\$1")
    .replace(/\r?\n/g, "<br>");
}

/** An inline code span that survives backticks and pipes (tables) in its text. */
function code(text) {
  const s = String(text).replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  const runs = s.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = s.startsWith("`") || s.endsWith("`") ? " " : "";
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A fenced block that survives backtick fences in its text. */
function fenced(text, info = "text") {
  const runs = String(text).match(/`{3,}/g) ?? [];
  const fence = "`".repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
  return `${fence}${info}\n${text}\n${fence}`;
}

function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}

const TABLE_HEAD = [
  "| level | rule | resource | what is wrong, and the fix | waiver |",
  "|---|---|---|---|---|",
];

function row(f) {
  const level = f.level === "mandatory" ? "**mandatory**" : f.level;
  const severity = f.severity ? `<br>${cell(f.severity)}` : "";
  const resource =
    f.type === "(stack)" ? `${code(f.name)} (stack)` : `${code(f.name)}<br>${code(f.type)}`;
  const what = f.message || f.description;
  const fix = f.fix ? `<br>**Fix:** ${cell(f.fix)}` : "";
  return `| ${level}${severity} | ${code(f.rule)} | ${resource} | ${cell(what)}${fix} | ${f.waiver} |`;
}

/** "`monkeytown-policy` 0.1.0" for each pack that ran. */
function packsText(packs) {
  if (packs.length === 0) return "";
  return packs.map((p) => `${code(p.name)}${p.version ? ` ${p.version}` : ""}`).join(", ");
}

function statusLine(preview, { stack, sha }) {
  const at = sha ? ` at ${sha}` : "";
  const mandatory = preview.findings.filter((f) => f.level === "mandatory").length;
  if (!preview.failed) return `:white_check_mark: **The preview of ${code(stack)} passed**${at}.`;
  const why = [];
  if (mandatory > 0) why.push(plural(mandatory, "mandatory policy violation"));
  if (preview.errors.length > 0) why.push("an error that is not a policy finding (below)");
  if (why.length === 0)
    why.push("no policy finding and no error message; the job log has the output");
  return `:x: **The preview of ${code(stack)} failed**${at}: ${why.join(" and ")}. This pull request cannot merge until it passes.`;
}

/** The error text, at most ERROR_CHARS characters, cut between lines with a count of what was cut. */
function errorBlock(errors) {
  const lines = errors.join("\n\n").split("\n");
  const kept = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > ERROR_CHARS) break;
    kept.push(line);
    size += line.length + 1;
  }
  const cut = lines.length - kept.length;
  if (cut > 0) kept.push(`… ${plural(cut, "more line")} in the job log`);
  return fenced(kept.join("\n"));
}

/** The findings, mandatory in a table, the rest folded below; `shown` rows of them at most. */
function findingsBlock(preview, shown) {
  const out = [];
  const all = preview.findings;
  const packs = packsText(preview.packs);
  if (all.length === 0) {
    if (!preview.failed) {
      const ran =
        preview.rules > 0
          ? `: the ${plural(preview.rules, "rule")} of ${packs || "the policy pack"} passed on ${plural(preview.resourcesChecked, "resource")}`
          : packs
            ? ` (policy pack ${packs})`
            : "";
      return `**Policy findings:** none${ran}.`;
    }
    if (preview.errors.length === 0) {
      return `**Policy findings:** none${packs ? ` (policy pack ${packs})` : ""}.`;
    }
    return preview.eventCount === 0
      ? "**Policy findings:** none: the engine did not start, so the policy pack did not run."
      : "**Policy findings:** none reported before the preview stopped.";
  }
  const counts = LEVELS.map((level) => [level, all.filter((f) => f.level === level).length]).filter(
    ([, n]) => n > 0,
  );
  out.push(
    `**Policy findings:** ${counts.map(([level, n]) => `${n} ${level}`).join(", ")}${packs ? ` (policy pack ${packs})` : ""}.`,
  );
  const visible = all.slice(0, shown);
  const blocking = visible.filter((f) => f.level === "mandatory");
  const folded = visible.filter((f) => f.level !== "mandatory");
  if (blocking.length > 0) out.push("", ...TABLE_HEAD, ...blocking.map(row));
  const foldedTotal = all.filter((f) => f.level !== "mandatory").length;
  if (folded.length > 0) {
    const label = counts
      .filter(([level]) => level !== "mandatory")
      .map(([level, n]) => `${n} ${level}`)
      .join(", ");
    out.push(
      "",
      "<details>",
      `<summary>${label} (${foldedTotal === 1 ? "does" : "do"} not block the merge)</summary>`,
      "",
      ...TABLE_HEAD,
      ...folded.map(row),
      "",
      "</details>",
    );
  }
  if (shown < all.length) {
    const left = all.slice(shown);
    const byLevel = LEVELS.map((level) => [level, left.filter((f) => f.level === level).length])
      .filter(([, n]) => n > 0)
      .map(([level, n]) => `${n} ${level}`)
      .join(", ");
    out.push(
      "",
      `**${plural(left.length, "more finding")} not shown** (${byLevel}): this report stays within GitHub's size limit. The job log lists every finding.`,
    );
  }
  return out.join("\n");
}

/** The preview's output, its last lines within `budget` characters, in the marker fold. */
function logBlock(log, budget, runUrl) {
  const intro = runUrl ? `The preview's output (full log: ${runUrl}):` : "The preview's output:";
  const lines = stripColors(log).replace(/\r/g, "").replace(/\n+$/, "").split("\n");
  const wrap = (kept, cut) =>
    [
      "<details>",
      LOG_SUMMARY,
      "",
      intro,
      "",
      fenced(
        [...(cut > 0 ? [`… ${plural(cut, "earlier line")} left out`] : []), ...kept].join("\n"),
      ),
      "</details>",
    ].join("\n");
  if (log.trim() === "") return wrap(["(no output)"], 0);
  const kept = [];
  let size = wrap([], lines.length).length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (size + lines[i].length + 1 > budget) break;
    kept.unshift(lines[i]);
    size += lines[i].length + 1;
  }
  return wrap(kept, lines.length - kept.length);
}

/**
 * The markdown report of one stack's preview, at most `limit` characters: status, the error text
 * when the preview failed for another reason than policy, the findings table (mandatory first,
 * advisory folded), and with `includeLog` the preview's output in the "Pulumi report" fold.
 * When it does not fit, whole rows are left out from the end (advisory before mandatory) and
 * counted; the log gets what room is left.
 */
function renderReport(preview, options = {}) {
  const {
    stack = preview.stack ?? "",
    sha,
    runUrl,
    heading,
    limit = COMMENT_LIMIT,
    includeLog = false,
  } = options;
  const head = [
    ...(heading ? [heading, ""] : []),
    statusLine(preview, { stack, sha }),
    ...(preview.errors.length > 0 ? ["", errorBlock(preview.errors)] : []),
    "",
    "",
  ].join("\n");
  const tail = !includeLog && runUrl ? `\n\nThe run: ${runUrl}` : "";
  const minimalLog = includeLog ? logBlock("", 0, runUrl).length + 2 : 0;
  const body = (shown) => head + findingsBlock(preview, shown) + tail;
  const total = preview.findings.length;
  let shown = total;
  if (body(total).length + minimalLog > limit) {
    // Largest number of rows that fits, leaving room for the note.
    let lo = 0;
    let hi = total - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (body(mid).length + minimalLog + NOTE_RESERVE <= limit) lo = mid;
      else hi = mid - 1;
    }
    shown = lo;
  }
  const text = body(shown);
  if (!includeLog) return text;
  return `${text}\n\n${logBlock(preview.log, limit - text.length - 2, runUrl)}`;
}

// ---- command line -----------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = {};
  const known = new Set(["stack", "events", "log", "outcome", "limit", "sha", "run-url"]);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !known.has(m[1])) throw new Error(`unknown argument ${argv[i]}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    opts[m[1]] = value;
  }
  if (!opts.stack) throw new Error("--stack is required");
  if (opts.outcome !== undefined && !["success", "failure"].includes(opts.outcome)) {
    throw new Error(`--outcome must be success or failure, not ${opts.outcome}`);
  }
  return opts;
}

/** The text of a file, or "" when there is none. */
function readText(file) {
  return file && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(
      `policy-report: ${e.message}\nusage: node .github/scripts/policy-report.cjs --stack <stack> --events <file> [--log <file>] [--outcome success|failure] [--limit <n>] [--sha <commit>] [--run-url <url>]\n`,
    );
    return 2;
  }
  const preview = readPreview({
    events: readText(opts.events),
    log: readText(opts.log),
    outcome: opts.outcome,
    stack: opts.stack,
  });
  const limit = opts.limit ? Number(opts.limit) : STEP_SUMMARY_LIMIT;
  process.stdout.write(
    `${renderReport(preview, { stack: opts.stack, sha: opts.sha, runUrl: opts["run-url"], limit })}\n`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = {
  COMMENT_LIMIT,
  STEP_SUMMARY_LIMIT,
  LOG_SUMMARY,
  WAIVER_PREFIX,
  stripColors,
  parseEvents,
  parseUrn,
  readPreview,
  renderReport,
  readText,
  main,
};
