/**
 * The floor program of bench/preview-bench.ts: only a Kubernetes provider in render mode, as dev
 * creates first. Nothing else, so `pulumi preview` of it measures the engine, the language host,
 * Node.js start-up and loading the same SDKs the real program loads.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const renderDir = new pulumi.Config("floor").require("renderDir");
export const provider = new k8s.Provider("k8s", { renderYamlToDirectory: renderDir }).urn;
