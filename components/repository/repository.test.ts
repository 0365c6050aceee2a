import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Harness, installMocks } from "../../test/harness";

const PROTECTION = "github:index/branchProtection:BranchProtection";
const ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment";

/** The check names spelled out: the workflows produce these jobs, so a rename must fail here. */
const EXPECTED_CONTEXTS = ["ci", "preview (staging)", "preview (production)", "policy"];

let h: Harness;
let mod: typeof import("./index");
let settings: InstanceType<typeof mod.RepositorySettings>;

beforeAll(async () => {
  h = await installMocks();
  mod = await import("./index");
  settings = new mod.RepositorySettings("repo", {
    repository: "monkeytown",
    productionReviewers: { users: [1234], teams: [pulumi.output(42)] },
  });
  new mod.RepositorySettings("strict", {
    repository: pulumi.output("monkeytown-infra"),
    branch: "trunk",
    requiredApprovingReviewCount: 2,
    productionReviewers: { teams: [7] },
  });
  await h.settle();
});

describe("RepositorySettings", () => {
  it("protects main: the CI, preview and policy checks, up to date, one approving review", () => {
    const { inputs } = h.one(PROTECTION, "repo-branch-protection");
    expect(inputs.repositoryId).toBe("monkeytown");
    expect(inputs.pattern).toBe("main");
    expect(inputs.requiredStatusChecks).toEqual([{ strict: true, contexts: EXPECTED_CONTEXTS }]);
    expect(inputs.requiredPullRequestReviews).toEqual([
      { requiredApprovingReviewCount: 1, dismissStaleReviews: true },
    ]);
  });

  it("forbids force pushes and deletions, for admins too", () => {
    const { inputs } = h.one(PROTECTION, "repo-branch-protection");
    expect(inputs.allowsForcePushes).toBe(false);
    expect(inputs.allowsDeletions).toBe(false);
    expect(inputs.enforceAdmins).toBe(true);
    expect(inputs).not.toHaveProperty("forcePushBypassers");
    expect(inputs).not.toHaveProperty("restrictPushes");
  });

  it("takes the branch and review count from the args", () => {
    const { inputs } = h.one(PROTECTION, "strict-branch-protection");
    expect(inputs.repositoryId).toBe("monkeytown-infra");
    expect(inputs.pattern).toBe("trunk");
    expect(inputs.requiredPullRequestReviews[0].requiredApprovingReviewCount).toBe(2);
  });

  it("creates a staging environment without gates", () => {
    const { inputs } = h.one(ENVIRONMENT, "repo-env-staging");
    expect(inputs.repository).toBe("monkeytown");
    expect(inputs.environment).toBe("staging");
    expect(inputs).not.toHaveProperty("reviewers");
    expect(inputs).not.toHaveProperty("deploymentBranchPolicy");
  });

  it("gates production on the reviewers and on protected branches", () => {
    const { inputs } = h.one(ENVIRONMENT, "repo-env-production");
    expect(inputs.environment).toBe("production");
    expect(inputs.reviewers).toEqual([{ users: [1234], teams: [42] }]);
    expect(inputs.deploymentBranchPolicy).toEqual({
      protectedBranches: true,
      customBranchPolicies: false,
    });
    expect(h.one(ENVIRONMENT, "strict-env-production").inputs.reviewers).toEqual([
      { users: [], teams: [7] },
    ]);
  });

  it("exposes the environments by name and the required checks", async () => {
    expect(Object.keys(settings.environments)).toEqual(["staging", "production"]);
    const names = await new Promise((resolve) =>
      pulumi
        .all([
          settings.environments.staging.environment,
          settings.environments.production.environment,
        ])
        .apply(resolve),
    );
    expect(names).toEqual(["staging", "production"]);
    expect(settings.requiredChecks).toEqual(EXPECTED_CONTEXTS);
  });

  it("registers exactly one protection and two environments per component", () => {
    expect(
      h
        .byType(PROTECTION)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["repo-branch-protection", "strict-branch-protection"]);
    expect(
      h
        .byType(ENVIRONMENT)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "repo-env-production",
      "repo-env-staging",
      "strict-env-production",
      "strict-env-staging",
    ]);
  });
});

describe("RepositorySettings argument checks", () => {
  it("lists every problem", () => {
    expect(
      mod.validateRepositorySettingsArgs({
        repository: "owner/monkeytown",
        branch: "my branch",
        requiredApprovingReviewCount: 0,
        productionReviewers: { users: [1, 2, 3, 4, -5], teams: [6, 7] },
      }),
    ).toEqual([
      '`repository` ("owner/monkeytown") must be a bare repository name such as "monkeytown", without the owner.',
      '`branch` ("my branch") must be a branch name without spaces, e.g. "main".',
      "`requiredApprovingReviewCount` (0) must be a whole number from 1 to 6: merges to main need review.",
      "`productionReviewers` names 7 reviewers; GitHub allows at most 6: use a team instead of several users.",
      "`productionReviewers.users[4]` (-5) is not a GitHub id (a whole number above 0).",
    ]);
  });

  it("refuses an ungated production and registers nothing", async () => {
    const before = h.resources.length;
    expect(
      () =>
        new mod.RepositorySettings("bad", { repository: "monkeytown", productionReviewers: {} }),
    ).toThrow(
      'Invalid arguments for monkeytown:repository:RepositorySettings "bad" (1 problem; nothing was registered):\n  - `productionReviewers` names nobody: give at least one user or team id',
    );
    await h.settle();
    expect(h.resources.slice(before)).toEqual([]);
  });
});
