/**
 * The status checks that gate merges to `main`. This is the one place their names live: the
 * Repository component's branch protection requires exactly these contexts, and the workflows in
 * `.github/workflows/` must produce jobs with these names (a test parses the workflows to prove it).
 *
 * A GitHub Actions job reports its check under its `name:` (or its id when it has none).
 */
export const REQUIRED_CHECKS = {
  /** ci.yml: lint, type check, unit and policy tests. */
  ci: "ci",
  /** preview.yml: `pulumi preview` of staging with the policy pack. */
  previewStaging: "preview (staging)",
  /** preview.yml: `pulumi preview` of production with the policy pack. */
  previewProduction: "preview (production)",
  /** preview.yml: fails when any mandatory policy is violated in any previewed stack. */
  policy: "policy",
} as const;

/** The contexts, in a stable order, as branch protection wants them. */
export const REQUIRED_CHECK_CONTEXTS: readonly string[] = Object.values(REQUIRED_CHECKS);
