/**
 * Blue-green as a release flow: a new image reaches the idle colour only, the switch moves traffic
 * and nothing else, and the colour that served before keeps its image as the instant rollback.
 */
import { describe, expect, it } from "vitest";
import { installMocks, valueOf, type Harness } from "../../test/harness";
import { validateApiServiceArgs, type ApiServiceArgs, type BlueGreenArgs } from "./index";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";

async function build(
  image: string,
  blueGreen: BlueGreenArgs,
): Promise<{ h: Harness; api: import("./index").ApiService }> {
  const h = await installMocks();
  const { ApiService } = await import("./index");
  const api = new ApiService("api", {
    namespace: "ns",
    image,
    autoscaling: { minReplicas: 2, maxReplicas: 10 },
    blueGreen,
  });
  await h.settle();
  return { h, api };
}

const imageOf = (h: Harness, color: string): string =>
  h.one(DEPLOYMENT, `api-${color}`).inputs.spec.template.spec.containers[0].image;
const colorOf = (h: Harness, service: string): string =>
  h.one(SERVICE, service).inputs.spec.selector["monkeytown.dev/color"];

describe("ApiService blue-green releases", () => {
  it("first deploy (no colour pinned): both colours run the release", async () => {
    const { h, api } = await build("ghcr.io/acme/api:1.0.0", { activeColor: "blue" });
    expect(imageOf(h, "blue")).toBe("ghcr.io/acme/api:1.0.0");
    expect(imageOf(h, "green")).toBe("ghcr.io/acme/api:1.0.0");
    expect(await valueOf(api.servingImage)).toBe("ghcr.io/acme/api:1.0.0");
  });

  it("a new release moves only the idle colour; the serving colour keeps its pinned image", async () => {
    const pinned = { activeColor: "blue", images: { blue: "ghcr.io/acme/api:1.0.0" } } as const;
    const first = await build("ghcr.io/acme/api:2.0.0", pinned);
    expect(imageOf(first.h, "blue")).toBe("ghcr.io/acme/api:1.0.0");
    expect(imageOf(first.h, "green")).toBe("ghcr.io/acme/api:2.0.0");
    const next = await build("ghcr.io/acme/api:3.0.0", pinned);
    expect(imageOf(next.h, "blue")).toBe("ghcr.io/acme/api:1.0.0");
    expect(imageOf(next.h, "green")).toBe("ghcr.io/acme/api:3.0.0");
    // Traffic stays on blue; the preview Service reaches the new release for the smoke test.
    expect(colorOf(next.h, "api-service")).toBe("blue");
    expect(colorOf(next.h, "api-preview")).toBe("green");
    expect(await valueOf(next.api.servingImage)).toBe("ghcr.io/acme/api:1.0.0");
    expect(await valueOf(next.api.colorImages!.green)).toBe("ghcr.io/acme/api:3.0.0");
  });

  it("the switch moves traffic, not images: the old colour stays at its release as the rollback", async () => {
    const images = { blue: "ghcr.io/acme/api:1.0.0", green: "ghcr.io/acme/api:2.0.0" };
    const before = await build("ghcr.io/acme/api:2.0.0", { activeColor: "blue", images });
    const after = await build("ghcr.io/acme/api:2.0.0", { activeColor: "green", images });
    for (const color of ["blue", "green"]) {
      expect(imageOf(after.h, color), color).toBe(imageOf(before.h, color));
    }
    expect(colorOf(after.h, "api-service")).toBe("green");
    expect(colorOf(after.h, "api-preview")).toBe("blue");
    expect(await valueOf(after.api.servingImage)).toBe("ghcr.io/acme/api:2.0.0");
    // The old colour stays warm at the active minimum, ready to take the traffic back.
    expect(after.h.one(DEPLOYMENT, "api-blue").inputs.spec.replicas).toBe(2);
    expect(after.h.one(DEPLOYMENT, "api-green").inputs.spec).not.toHaveProperty("replicas");
    expect(
      after.h.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api-hpa").inputs.spec
        .scaleTargetRef.name,
    ).toBe("api-green");
  });

  it("refuses a serving colour without an image while the idle colour has one", () => {
    const args: ApiServiceArgs = {
      namespace: "ns",
      image: "ghcr.io/acme/api:3.0.0",
      blueGreen: { activeColor: "green", images: { blue: "ghcr.io/acme/api:1.0.0" } },
    };
    expect(validateApiServiceArgs(args)).toEqual([
      "`blueGreen.images.green` is unset while `blueGreen.images.blue` is set: the serving colour (green) would take `image` and the idle one keep its own; give green the image it runs, or switch `blueGreen.activeColor` to blue.",
    ]);
    expect(
      validateApiServiceArgs({
        ...args,
        blueGreen: { activeColor: "blue", images: { blue: "ghcr.io/acme/api:1.0.0" } },
      }),
    ).toEqual([]);
  });
});
