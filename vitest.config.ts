import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "bin/**", "rendered/**", ".work/**"],
    // Pulumi mocks are process-global: every test file gets its own worker and module graph.
    pool: "forks",
    isolate: true,
    testTimeout: 30_000,
    reporters: ["default"],
  },
});
