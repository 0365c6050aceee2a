import { describe, expect, it } from "vitest";
import {
  appContainer,
  cpuMillis,
  deriveProbeTimings,
  memoryBytes,
  validateResources,
} from "./index";

describe("quantities", () => {
  it("parses CPU to millicores and memory to bytes", () => {
    expect([cpuMillis("100m"), cpuMillis("0.5"), cpuMillis("2")]).toEqual([100, 500, 2000]);
    expect([memoryBytes("64Mi"), memoryBytes("1Gi"), memoryBytes("128M")]).toEqual([
      64 * 1024 ** 2,
      1024 ** 3,
      128e6,
    ]);
    expect(() => memoryBytes("lots")).toThrow('"lots" is not a memory quantity such as 64Mi');
  });

  it("compares across units: 1Gi of limit covers a 512Mi request, 0.1 CPU does not cover 200m", () => {
    expect(
      validateResources(
        { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "0.1", memory: "1Gi" } },
        "api.resources",
      ),
    ).toEqual([
      "`api.resources.limits.cpu` (0.1) is below requests.cpu (200m): raise the limit to at least 200m or lower the request.",
    ]);
  });
});

describe("appContainer", () => {
  it("is hardened and probed whatever the caller passes", () => {
    const c = appContainer({
      name: "x",
      image: "ghcr.io/acme/x:1",
      port: 9000,
      resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
      probes: deriveProbeTimings(30, 30)!,
    });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.ports).toEqual([{ name: "http", containerPort: 9000, protocol: "TCP" }]);
    expect(c.livenessProbe).toMatchObject({
      httpGet: { path: "/health", port: "http" },
      periodSeconds: 5,
    });
    expect(c.readinessProbe).toMatchObject({
      httpGet: { path: "/ready", port: "http" },
      periodSeconds: 5,
    });
  });
});
