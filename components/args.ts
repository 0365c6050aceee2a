/**
 * One convention for every component's argument checks:
 *
 * - the component exports a pure `validate<Type>Args(args): string[]` that returns every problem,
 *   each naming the argument in backticks, its value, and the fix;
 * - its constructor calls {@link checkArgs} with that list before `super()`, so a bad argument
 *   registers nothing, not even the component itself;
 * - every component fails with the same error, {@link InvalidArgumentsError}.
 *
 * The stack configuration is checked earlier still (config/: one RunError before any resource);
 * these checks guard callers that use a component directly.
 *
 * Every type token is `${PKG}:<module>:<Type>`, so URNs read alike in a preview; renaming one
 * replaces live resources unless the component takes an alias.
 */

/** The package prefix of every component type token. */
export const PKG = "monkeytown";

/** The `app.kubernetes.io/part-of` label every object of the product carries. */
export const PART_OF = "monkeytown";

/** A component was given arguments it cannot work with; nothing was registered. */
export class InvalidArgumentsError extends Error {
  /** The component's type token, e.g. `monkeytown:web:WebService`. */
  public readonly componentType: string;
  /** The name the component was given. */
  public readonly componentName: string;
  /** Every problem, one sentence each. */
  public readonly problems: readonly string[];

  constructor(componentType: string, componentName: string, problems: readonly string[]) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super(
      `Invalid arguments for ${componentType} "${componentName}" (${count}; nothing was registered):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "InvalidArgumentsError";
    this.componentType = componentType;
    this.componentName = componentName;
    this.problems = [...problems];
  }
}

/** Throw one {@link InvalidArgumentsError} listing every problem, or do nothing. Call before `super()`. */
export function checkArgs(
  componentType: string,
  componentName: string,
  problems: readonly string[],
): void {
  if (problems.length > 0) throw new InvalidArgumentsError(componentType, componentName, problems);
}
