import { defineConfig } from "vitest/config";

/**
 * Two projects, both run by `npm test`:
 * - unit: pure builders, components and stacks under Pulumi mocks, the policy pack, config; fast.
 * - integration: the real engine (test/engine), a real nginx, the images, the workflows with
 *   actionlint; each skips with its reason where the machine lacks what it needs.
 * `npm run test:unit` runs the first alone.
 */
const INTEGRATION = [
  "test/engine/**/*.test.ts",
  "**/*.real.test.ts",
  "docker/**/*.test.ts",
  "test/workflows.test.ts",
  "policy/test/serve.test.ts",
];

export default defineConfig({
  test: {
    exclude: ["**/node_modules/**", "bin/**", "rendered/**", ".work/**"],
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
          exclude: ["**/node_modules/**", "bin/**", "rendered/**", ".work/**", ...INTEGRATION],
        },
      },
      {
        extends: true,
        test: { name: "integration", include: INTEGRATION },
      },
    ],
  },
});
