/**
 * Pulumi entry point: package.json's `main`, which the engine runs from the project root (so the
 * root tsconfig applies and relative paths such as `rendered/dev` resolve there). The engine calls
 * the exported function and publishes what it returns as the stack outputs.
 */
import { program } from "./program";

export = program;
