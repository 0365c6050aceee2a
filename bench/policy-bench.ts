/**
 * How long the policy pack takes per resource, over 10,000 mixed resources (bench/policy-cost.ts).
 *
 *   npx vite-node bench/policy-bench.ts            (or: npm run bench:policy)
 *
 * Two figures:
 * - pack: every resource policy on every resource, with props wrapped in `unknownCheckingProxy`
 *   per call as the engine does, plus every stack policy once; what the pack itself costs.
 * - evaluatePolicies: the same through the test helper, which also deep-copies props per call.
 * Target: pack < 0.2 ms per resource. `npm run bench:preview` prints the first figure too.
 */
import { evaluatePolicies } from "../policy/testing";
import { PER_RESOURCE_TARGET_MS, makeResource, measurePolicyCost } from "./policy-cost";

const N = 10_000;
const ROUNDS = 5;

async function main(): Promise<void> {
  const cost = await measurePolicyCost(N, ROUNDS);
  const resources = Array.from({ length: N }, (_, i) => makeResource(i));
  const t1 = performance.now();
  const viaHelper = await evaluatePolicies(resources);
  const helperMs = performance.now() - t1;
  console.log(
    `policy pack: ${cost.policies} policies, ${N} resources of ${cost.types} types, ${cost.violations} violations`,
  );
  console.log(
    `pack:             ${cost.perResourceMs.toFixed(4)} ms per resource (median of ${ROUNDS} rounds, ${cost.medianMs.toFixed(0)} ms total)`,
  );
  console.log(
    `evaluatePolicies: ${(helperMs / N).toFixed(4)} ms per resource (${viaHelper.length} violations, includes a deep copy of props per call)`,
  );
  console.log(
    `target:           ${PER_RESOURCE_TARGET_MS} ms per resource -> ${cost.perResourceMs < PER_RESOURCE_TARGET_MS ? "met" : "MISSED"}`,
  );
  if (viaHelper.length !== cost.violations) {
    throw new Error(
      `the helper reported ${viaHelper.length} violations, the direct run ${cost.violations}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
