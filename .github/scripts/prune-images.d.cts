// Types of prune-images.cjs, for prune-images.test.ts.
export interface PackageVersion {
  readonly id: number;
  readonly name: string;
  readonly created_at: string;
  readonly metadata?: { readonly container?: { readonly tags: readonly string[] } };
}
export declare function selectVersionsToDelete<V extends PackageVersion>(
  versions: readonly V[],
  options: { now: number; retentionDays: number; keepNewest: number },
): V[];
export declare function prune(args: {
  github: unknown;
  context: unknown;
  core: unknown;
  packages: readonly string[];
  retentionDays: number;
  keepNewest: number;
  dryRun: boolean;
}): Promise<number>;
