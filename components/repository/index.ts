/**
 * RepositorySettings: the GitHub side of the delivery process. Branch protection on `main` requires
 * the CI, preview and policy checks (the names live in `./checks`, shared with the workflows) and an
 * approving review; `staging` and `production` deployment environments, production gated by
 * required reviewers and deployable only from protected branches.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs, PKG } from "../args";
import { REQUIRED_CHECK_CONTEXTS } from "./checks";
import { REPOSITORY_DEFAULTS } from "./defaults";

export { REPOSITORY_DEFAULTS } from "./defaults";

/** Who may approve a production deployment (GitHub numeric ids). */
export interface ProductionReviewersArgs {
  /** User ids. @default [] */
  readonly users?: readonly pulumi.Input<number>[];
  /** Team ids. @default [] */
  readonly teams?: readonly pulumi.Input<number>[];
}

export interface RepositorySettingsArgs {
  /** Repository name (without the owner; the provider's `owner` says whose). */
  readonly repository: pulumi.Input<string>;
  /** Branch to protect. @default "main" */
  readonly branch?: string;
  /** Approving reviews a pull request needs before it merges (1 to 6). @default 1 */
  readonly requiredApprovingReviewCount?: number;
  /** Reviewers of production deployments: at least one user or team, at most 6 in all. */
  readonly productionReviewers: ProductionReviewersArgs;
}

/** The deployment environments, in the order they are created. */
export const ENVIRONMENT_NAMES = ["staging", "production"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** GitHub accepts at most this many required reviewers per environment. */
export const MAX_ENVIRONMENT_REVIEWERS = 6;

/** The component's type token. */
export const REPOSITORY_SETTINGS_TYPE = `${PKG}:repository:RepositorySettings`;

/** Check the arguments; returns every problem (empty when fine), each naming the argument and the fix. */
export function validateRepositorySettingsArgs(args: RepositorySettingsArgs): string[] {
  const problems: string[] = [];
  if (typeof args.repository === "string" && !/^[A-Za-z0-9._-]+$/.test(args.repository)) {
    problems.push(
      `\`repository\` ("${args.repository}") must be a bare repository name such as "monkeytown", without the owner.`,
    );
  }
  if (args.branch !== undefined && (args.branch.trim() === "" || /\s/.test(args.branch))) {
    problems.push(
      `\`branch\` ("${args.branch}") must be a branch name without spaces, e.g. "main".`,
    );
  }
  const count = args.requiredApprovingReviewCount;
  if (count !== undefined && !(Number.isInteger(count) && count >= 1 && count <= 6)) {
    problems.push(
      `\`requiredApprovingReviewCount\` (${String(count)}) must be a whole number from 1 to 6: merges to main need review.`,
    );
  }
  const users = args.productionReviewers?.users ?? [];
  const teams = args.productionReviewers?.teams ?? [];
  if (users.length + teams.length === 0) {
    problems.push(
      "`productionReviewers` names nobody: give at least one user or team id, or production deploys would be ungated.",
    );
  }
  if (users.length + teams.length > MAX_ENVIRONMENT_REVIEWERS) {
    problems.push(
      `\`productionReviewers\` names ${users.length + teams.length} reviewers; GitHub allows at most ` +
        `${MAX_ENVIRONMENT_REVIEWERS}: use a team instead of several users.`,
    );
  }
  for (const [field, ids] of [
    ["users", users],
    ["teams", teams],
  ] as const) {
    ids.forEach((id, i) => {
      if (typeof id === "number" && !(Number.isInteger(id) && id > 0)) {
        problems.push(
          `\`productionReviewers.${field}[${i}]\` (${id}) is not a GitHub id (a whole number above 0).`,
        );
      }
    });
  }
  return problems;
}

export class RepositorySettings extends pulumi.ComponentResource {
  /** Protection of the branch that deploys (default `main`). */
  public readonly branchProtection: github.BranchProtection;
  /** Deployment environments by name; add environment secrets after them (`dependsOn`). */
  public readonly environments: Readonly<Record<EnvironmentName, github.RepositoryEnvironment>>;
  /** The status checks merges wait for. */
  public readonly requiredChecks: readonly string[];

  constructor(name: string, args: RepositorySettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(REPOSITORY_SETTINGS_TYPE, name, validateRepositorySettingsArgs(args));
    super(REPOSITORY_SETTINGS_TYPE, name, {}, opts);

    const branch = args.branch ?? REPOSITORY_DEFAULTS.branch;
    const reviewCount =
      args.requiredApprovingReviewCount ?? REPOSITORY_DEFAULTS.requiredApprovingReviewCount;
    this.requiredChecks = [...REQUIRED_CHECK_CONTEXTS];

    this.branchProtection = new github.BranchProtection(
      `${name}-branch-protection`,
      {
        repositoryId: args.repository,
        pattern: branch,
        enforceAdmins: true,
        allowsForcePushes: false,
        allowsDeletions: false,
        requiredStatusChecks: [{ strict: true, contexts: [...REQUIRED_CHECK_CONTEXTS] }],
        requiredPullRequestReviews: [
          { requiredApprovingReviewCount: reviewCount, dismissStaleReviews: true },
        ],
      },
      { parent: this },
    );

    const staging = new github.RepositoryEnvironment(
      `${name}-env-staging`,
      { repository: args.repository, environment: "staging" },
      { parent: this },
    );

    const production = new github.RepositoryEnvironment(
      `${name}-env-production`,
      {
        repository: args.repository,
        environment: "production",
        reviewers: [
          {
            users: [...(args.productionReviewers.users ?? [])],
            teams: [...(args.productionReviewers.teams ?? [])],
          },
        ],
        deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
      },
      // "Protected branches only" means something only once the branch is protected.
      { parent: this, dependsOn: [this.branchProtection] },
    );

    this.environments = { staging, production };

    this.registerOutputs({
      branchProtection: this.branchProtection,
      environments: this.environments,
      requiredChecks: this.requiredChecks,
    });
  }
}
