// Types of drift-issue.cjs, for drift-issue.test.ts.
export type Verdict = "clean" | "drift" | "error";
export declare const DRIFT_ERROR: RegExp;
export declare function classify(outcome: string, log: string): Verdict;
export declare function issueTitle(stack: string): string;
export declare function issueBody(args: { stack: string; log: string; runUrl: string }): string;
export declare function report(args: {
  github: unknown;
  context: unknown;
  core: unknown;
  stack: string;
  outcome: string;
  log: string;
}): Promise<Verdict>;
