import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { K8sSecret, K8sService, resourceType } from "../lib/resource-types";

describe("resource classes as type tokens", () => {
  it("carry the Kubernetes SDK's own type tokens", () => {
    const token = (c: unknown) => (c as { __pulumiType?: unknown }).__pulumiType;
    expect(token(K8sService)).toBe("kubernetes:core/v1:Service");
    expect(token(K8sSecret)).toBe("kubernetes:core/v1:Secret");
    expect(token(K8sService)).toBe(token(k8s.core.v1.Service));
    expect(token(K8sSecret)).toBe(token(k8s.core.v1.Secret));
  });

  it("are nothing but the token (no SDK class behind them)", () => {
    expect(resourceType("kubernetes:apps/v1:Deployment")).toEqual({
      __pulumiType: "kubernetes:apps/v1:Deployment",
    });
  });
});
