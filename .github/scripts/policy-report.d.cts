// Types of policy-report.cjs, for the tests and for pr-comment.d.cts.
export type Level = "mandatory" | "advisory" | "remediated";
export interface Finding {
  readonly level: Level | string;
  readonly severity: string;
  /** The rule (policy) name. */
  readonly rule: string;
  readonly pack: string;
  readonly packVersion: string;
  /** Empty for a stack-level finding. */
  readonly urn: string;
  /** The resource type without parent types; "(stack)" for a stack-level finding. */
  readonly type: string;
  readonly name: string;
  /** The rule's description (first line of the engine's message). */
  readonly description: string;
  /** What the rule reported, without the fix. */
  readonly message: string;
  /** The text after "Fix: ", or "". */
  readonly fix: string;
  /** The waiver cell, markdown: "none", or whether a waiver applies and why not. */
  readonly waiver: string;
}
export interface Preview {
  readonly stack: string | undefined;
  readonly failed: boolean;
  /** Mandatory first, then advisory, then remediated; by rule and resource within a level. */
  readonly findings: readonly Finding[];
  /** Error texts that are not policy findings (diagnostics, else the CLI's "error: " lines). */
  readonly errors: readonly string[];
  readonly packs: readonly { readonly name: string; readonly version: string }[];
  /** How many rules the packs ran, and on how many resources (from the packs' summary events). */
  readonly rules: number;
  readonly resourcesChecked: number;
  readonly resourceChanges: Record<string, number> | undefined;
  readonly eventCount: number;
  readonly unreadable: number;
  readonly log: string;
}
export interface RenderOptions {
  readonly stack?: string;
  readonly sha?: string;
  readonly runUrl?: string;
  /** A first line (the comment's heading), counted within the limit. */
  readonly heading?: string;
  /** At most this many characters. @default 65536 */
  readonly limit?: number;
  /** Add the preview's output in the "Pulumi report" fold. @default false */
  readonly includeLog?: boolean;
}
export declare const COMMENT_LIMIT: number;
export declare const STEP_SUMMARY_LIMIT: number;
export declare const LOG_SUMMARY: string;
export declare const WAIVER_PREFIX: string;
export declare function stripColors(text: string): string;
export declare function parseEvents(text: string): { events: object[]; unreadable: number };
export declare function parseUrn(
  urn: string | undefined,
  stack?: string,
): { type: string; name: string };
export declare function readPreview(args: {
  events: string;
  log?: string;
  outcome?: "success" | "failure" | string;
  stack?: string;
}): Preview;
export declare function renderReport(preview: Preview, options?: RenderOptions): string;
export declare function readText(file: string | undefined): string;
export declare function main(argv: readonly string[]): number;
