/**
 * The secret-Output type on its own, without the Secrets component's providers, so the config
 * loader (config/index.ts) can hand out its secrets typed as such.
 */
import * as pulumi from "@pulumi/pulumi";

declare const secretBrand: unique symbol;

/**
 * A string Output that is known to be a Pulumi secret. The only way to make one is `secretOutput()`
 * (which wraps with `pulumi.secret`; the config loader passes every `requireSecret` value through
 * it), so a plain string or a plain Output cannot be handed to a component as a secret.
 */
export type SecretOutput = pulumi.Output<string> & { readonly [secretBrand]: true };

/** Mark (and wrap) an Output as secret. */
export function secretOutput(value: pulumi.Output<string>): SecretOutput {
  return pulumi.secret(value) as SecretOutput;
}
