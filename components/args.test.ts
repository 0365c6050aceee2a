/**
 * The one convention for component arguments: every component, given a bad argument, throws an
 * InvalidArgumentsError naming its type and name, and registers nothing, not even itself (the check
 * runs before super()).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, type Harness } from "../test/harness";
import { InvalidArgumentsError } from "./args";

describe("every component checks its arguments before super()", () => {
  let h: Harness;
  let mods: {
    web: typeof import("./web");
    api: typeof import("./api");
    registry: typeof import("./registry");
    secrets: typeof import("./secrets");
    alerts: typeof import("./alerts");
    edge: typeof import("./edge");
    repository: typeof import("./repository");
  };

  beforeAll(async () => {
    h = await installMocks();
    mods = {
      web: await import("./web"),
      api: await import("./api"),
      registry: await import("./registry"),
      secrets: await import("./secrets"),
      alerts: await import("./alerts"),
      edge: await import("./edge"),
      repository: await import("./repository"),
    };
  });

  const cases: [type: string, build: () => unknown, problem: string][] = [
    [
      "monkeytown:web:WebService",
      () =>
        new mods.web.WebService("bad", {
          namespace: "ns",
          image: "ghcr.io/acme/web:1",
          resources: {
            requests: { cpu: "100m", memory: "64Mi" },
            limits: { cpu: "50m", memory: "64Mi" },
          },
        }),
      "`resources.limits.cpu` (50m) is below requests.cpu (100m)",
    ],
    [
      "monkeytown:api:ApiService",
      () =>
        new mods.api.ApiService("bad", {
          namespace: "ns",
          image: "ghcr.io/acme/api:1",
          resources: {
            requests: { cpu: "200m", memory: "256Mi" },
            limits: { cpu: "1", memory: "lots" },
          },
        }),
      '`resources.limits.memory` ("lots") is not a memory quantity',
    ],
    [
      "monkeytown:registry:Registry",
      () => new mods.registry.Registry("bad", { owner: "acme", tag: "bad tag", images: {} }),
      '`tag` ("bad tag") is not a valid image tag',
    ],
    [
      "monkeytown:secrets:Secrets",
      () =>
        new mods.secrets.Secrets("bad", {
          namespace: "ns",
          secretName: "app",
          delivery: "external",
          entries: {},
        }),
      "`entries` is empty",
    ],
    [
      "monkeytown:alerts:Alerts",
      () => new mods.alerts.Alerts("bad", { namespace: "ns", apiSelectorLabels: {} }),
      "`apiSelectorLabels` is empty",
    ],
    [
      "monkeytown:edge:Edge",
      () =>
        new mods.edge.Edge("bad", {
          zoneId: pulumi.output("023e105f4ecef8ad9ca31a8372d0c353"),
          records: [],
        }),
      "`records` is empty",
    ],
    [
      "monkeytown:repository:RepositorySettings",
      () =>
        new mods.repository.RepositorySettings("bad", { repository: "x", productionReviewers: {} }),
      "`productionReviewers` names nobody",
    ],
  ];

  it("covers every component: each folder whose index.ts defines a ComponentResource", () => {
    const folders = fs
      .readdirSync(__dirname, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .filter((dir) => {
        const index = path.join(__dirname, dir, "index.ts");
        return (
          fs.existsSync(index) &&
          /extends pulumi\.ComponentResource\b/.test(fs.readFileSync(index, "utf8"))
        );
      });
    expect(folders.sort()).toEqual(cases.map(([type]) => type.split(":")[1]).sort());
  });

  it.each(cases)("%s: one InvalidArgumentsError, nothing registered", async (type, build, says) => {
    const before = h.resources.length;
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentsError);
    const e = error as InvalidArgumentsError;
    expect(e.componentType).toBe(type);
    expect(e.componentName).toBe("bad");
    expect(e.message).toMatch(
      new RegExp(
        `^Invalid arguments for ${type} "bad" \\(\\d+ problems?; nothing was registered\\):\\n  - `,
      ),
    );
    expect(
      e.problems.some((p) => p.startsWith(says)),
      e.message,
    ).toBe(true);
    // Every problem names its argument in backticks.
    for (const p of e.problems) expect(p, p).toMatch(/`[A-Za-z][A-Za-z0-9.[\]]*`/);
    await h.settle();
    expect(h.resources.slice(before).map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });
});
