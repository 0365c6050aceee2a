/**
 * Pulumi entry point (`main: stacks/` in Pulumi.yaml). The engine calls the exported function and
 * publishes what it returns as the stack outputs.
 */
import { program } from "./program";

export = program;
