/**
 * Defaults of the RepositorySettings' arguments, applied once in its constructor (./index.ts) and,
 * for the review count, by the stack config (config/schema.ts: `github.requiredReviews`). A module
 * without the Pulumi SDK, so the config parser loads none.
 */
export const REPOSITORY_DEFAULTS = {
  branch: "main",
  requiredApprovingReviewCount: 1,
} as const;
