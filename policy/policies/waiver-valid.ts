import { configSchema, resourceRule } from "../lib/rule";
import { limitProblems, now, waiversOf } from "../lib/waivers";

export interface WaiverValidConfig {
  maxDays: number;
  minReasonLength: number;
}

/**
 * Every waiver annotation names a rule of this pack and carries a reason and an unexpired expiry
 * date within `maxDays`. An invalid waiver silences nothing and is reported here.
 */
export function waiverValid(knownRules: readonly string[]) {
  const known = new Set(knownRules);
  return resourceRule<WaiverValidConfig>({
    name: "waiver-valid",
    description: "Policy waivers name a real rule and carry a reason and an unexpired expiry date.",
    checks:
      "Every waiver names an existing rule, has a reason (≥ `minReasonLength`) and a valid, unexpired expiry no more than `maxDays` ahead.",
    enforcementLevel: "mandatory",
    severity: "medium",
    peers:
      "Polaris exemptions (annotation, no expiry); Kyverno PolicyException (no expiry); kube-score ignore annotations (no reason/expiry)",
    remediationSteps:
      'Write the waiver as policy.monkeytown.dev/waive-<rule>: "reason=<why, approved by whom>; expires=YYYY-MM-DD", or fix the resource and drop the waiver.',
    configSchema: configSchema({
      maxDays: {
        type: "integer",
        minimum: 1,
        default: 180,
        description: "Longest a waiver may run from today.",
      },
      minReasonLength: {
        type: "integer",
        minimum: 1,
        default: 10,
        description: "Shortest acceptable reason.",
      },
    }),
    appliesTo: (type) =>
      type.startsWith("kubernetes:") || type === "docker:index/container:Container",
    check(r, config, report) {
      const t = now();
      for (const w of waiversOf(r.type, r.props, t)) {
        const problems = [...w.problems, ...limitProblems(w, t, config)];
        if (!known.has(w.rule)) problems.unshift(`no rule named "${w.rule}" exists in this pack`);
        if (problems.length === 0) continue;
        report(
          `Waiver "${w.key}" on ${r.name} is not valid: ${problems.join("; ")}. ${w.problems.length > 0 || !known.has(w.rule) ? "It does not silence anything." : "It still applies, but must be fixed."} Fix: write it as "reason=<why, approved by whom>; expires=YYYY-MM-DD" for an existing rule, or remove it.`,
        );
      }
    },
  });
}
