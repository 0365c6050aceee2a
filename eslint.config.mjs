// ESLint flat config: typescript-eslint's type-aware rules plus @pulumi/eslint-plugin, which catches
// Outputs used in template literals (they must go through pulumi.interpolate or .apply).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "bin/**", "rendered/**", ".work/**", "**/*.js", "**/*.mjs", "docker/**/public/**"],
  },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    // The policy pack's process loads what its rules import, on every preview: SDKs are for types
    // only (a resource class becomes a type token, policy/lib/resource-types.ts). docs/engine.md,
    // "Policy pack start-up".
    files: ["policy/index.ts", "policy/lib/**/*.ts", "policy/policies/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/docker", "@pulumi/github"].map(
            (name) => ({
              name,
              allowTypeImports: true,
              message: `${name} in the pack's process costs start-up on every preview: import types only (\`import type\`), and use policy/lib/resource-types.ts for a resource class.`,
            }),
          ),
        },
      ],
    },
  },
  {
    // The workflow helpers are plain CommonJS that node (and actions/github-script) run without a build.
    files: [".github/scripts/**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
