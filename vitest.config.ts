import { defineConfig } from "vitest/config";

/**
 * Three projects, all run by `npm test`:
 * - unit: pure builders, components and stacks under Pulumi mocks, the policy pack, config; fast.
 * - integration: the real engine (test/engine), a real nginx, the images, the delivery workflows
 *   (test/workflows/, with actionlint) and the scripts and workflow helpers they run; each skips with
 *   its reason where the machine lacks what it needs.
 * - cluster: a stack's shape on a live API server (test/cluster): the global setup finds or starts
 *   the local cluster (`npm run cluster:up`), or the tests skip with the reason. One file at a time,
 *   and after the other two projects have finished: they share the cluster and two cores, and under
 *   the others' load real pods' probes time out and the provider's wait for a Deployment can return
 *   the object as it was before the update (a CI run's live policy check saw stale managedFields).
 * `npm run test:unit` runs the first alone.
 */
const CLUSTER = ["test/cluster/**/*.test.ts"];
const INTEGRATION = [
  "test/engine/**/*.test.ts",
  "**/*.real.test.ts",
  "docker/**/*.test.ts",
  "test/workflows/**/*.test.ts",
  "scripts/{health-check,preview-all,rollback,blue-green}.test.ts",
  ".github/scripts/{drift-issue,pr-comment,prune-images}.test.ts",
  "policy/test/serve.test.ts",
];

export default defineConfig({
  test: {
    exclude: ["**/node_modules/**", "bin/**", "rendered/**", ".work/**", ".cluster/**"],
    // Pulumi mocks are process-global: every test file gets its own worker and module graph.
    pool: "forks",
    isolate: true,
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [
            "**/node_modules/**",
            "bin/**",
            "rendered/**",
            ".work/**",
            ".cluster/**",
            ...INTEGRATION,
            ...CLUSTER,
          ],
        },
      },
      {
        extends: true,
        test: { name: "integration", include: INTEGRATION },
      },
      {
        extends: true,
        test: {
          name: "cluster",
          include: CLUSTER,
          globalSetup: ["test/cluster/global-setup.ts"],
          // One fork runs the files one after the other: they share the cluster and two cores.
          poolOptions: { forks: { singleFork: true } },
          // After unit and integration (group 0), on a machine they no longer load.
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
