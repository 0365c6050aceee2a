// Types of pr-comment.cjs, for test/workflows.test.ts.
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
export declare function failureBody(args: {
  project: string;
  stack: string;
  runUrl: string;
  sha: string;
}): string;
export declare function reportFailedPreview(args: {
  github: unknown;
  context: unknown;
  project: string;
  stack: string;
}): Promise<void>;
