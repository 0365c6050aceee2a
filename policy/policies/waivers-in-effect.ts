import { resourceRule } from "../lib/rule";
import { now, waiversOf } from "../lib/waivers";

/**
 * Lists every waiver in force, so the preview shows what is being skipped and until when.
 * Advisory by design: it reports, it never blocks.
 */
export function waiversInEffect(knownRules: readonly string[]) {
  const known = new Set(knownRules);
  return resourceRule<object>({
    name: "waivers-in-effect",
    description: "Lists the policy waivers in force on each resource.",
    checks: "Lists each waiver in force, with its reason and expiry, in the preview output.",
    enforcementLevel: "advisory",
    severity: "low",
    peers: "(reporting only)",
    remediationSteps: "None needed; remove the waiver once the resource complies.",
    appliesTo: (type) =>
      type.startsWith("kubernetes:") || type === "docker:index/container:Container",
    check(r, _config, report) {
      for (const w of waiversOf(r.type, r.props, now())) {
        if (w.problems.length > 0 || !known.has(w.rule)) continue;
        report(
          `Waiver in effect on ${r.name}: rule "${w.rule}" is skipped until ${w.expires}. Reason: ${w.reason}`,
        );
      }
    },
  });
}
