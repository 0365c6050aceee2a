// Types of pr-comment.cjs, for .github/scripts/pr-comment.test.ts and test/workflows/preview.test.ts.
import type { Preview } from "./policy-report.cjs";
export interface IssueComment {
  readonly id: number;
  readonly body?: string | null;
}
export declare const SUMMARY: string;
export declare function heading(project: string, stack: string): string;
export declare function projectName(pulumiYaml: string): string;
export declare function findStackComment<C extends IssueComment>(
  comments: readonly C[],
  project: string,
  stack: string,
): C | undefined;
export declare function commentBody(args: {
  project: string;
  stack: string;
  preview: Preview;
  runUrl: string;
  sha: string;
}): string;
export declare function upsertStackComment(args: {
  github: unknown;
  context: unknown;
  project: string;
  stack: string;
  body: string;
}): Promise<number | undefined>;
export declare function reportPreview(args: {
  github: unknown;
  context: unknown;
  project: string;
  stack: string;
  outcome: string;
  eventsFile: string;
  logFile: string;
}): Promise<string>;
