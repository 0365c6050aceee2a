/**
 * The floor program of the engine benchmarks: only a Kubernetes provider, as the real program
 * creates first. Nothing else, so its preview or update measures the engine, the language host,
 * Node.js start-up and loading the same SDKs the real program loads.
 * - bench/preview-bench.ts: render mode (`floor:renderDir` set), like dev;
 * - bench/cluster-bench.ts: the cluster of KUBECONFIG (`floor:renderDir` unset), like staging and
 *   production.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const renderDir = new pulumi.Config("floor").get("renderDir");
export const provider = new k8s.Provider(
  "k8s",
  renderDir !== undefined ? { renderYamlToDirectory: renderDir } : { enableServerSideApply: true },
).urn;
