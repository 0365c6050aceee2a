/**
 * Image retention (prune-images.cjs): which package versions go, which stay. images.yml's use of it:
 * test/workflows/scheduled.test.ts.
 */
import { describe, expect, it } from "vitest";
import * as pruneImages from "./prune-images.cjs";

describe("prune-images.cjs (architecture seed §9.2: Docker images 30 days on GHCR)", () => {
  const DAY = 24 * 60 * 60 * 1000;
  const now = Date.parse("2026-06-30T00:00:00Z");
  const version = (id: number, daysAgo: number, tags: string[]) => ({
    id,
    name: `sha256:${id}`,
    created_at: new Date(now - daysAgo * DAY).toISOString(),
    metadata: { container: { tags } },
  });

  it("deletes what is older than the retention period beyond the newest tagged images", () => {
    const versions = [
      version(1, 90, ["old1"]),
      version(2, 60, ["old2"]),
      version(3, 40, ["kept-by-count"]),
      version(4, 10, ["recent"]),
      version(5, 90.01, []), // untagged part of image 1
    ];
    const doomed = pruneImages.selectVersionsToDelete(versions, {
      now,
      retentionDays: 30,
      keepNewest: 2,
    });
    expect(doomed.map((v) => v.id)).toEqual([5, 1, 2]);
  });

  it("keeps everything while there are no more tagged images than it must keep", () => {
    const versions = [version(1, 300, ["a"]), version(2, 200, ["b"]), version(3, 250, [])];
    expect(
      pruneImages.selectVersionsToDelete(versions, { now, retentionDays: 30, keepNewest: 2 }),
    ).toEqual([]);
  });

  it("never deletes the untagged parts pushed with a kept image", () => {
    const versions = [
      version(1, 101, ["v1"]),
      version(2, 99.99, []), // pushed minutes before v2's index
      version(3, 99.98, ["v2"]),
      version(4, 1, ["v3"]),
    ];
    const doomed = pruneImages.selectVersionsToDelete(versions, {
      now,
      retentionDays: 30,
      keepNewest: 2,
    });
    expect(doomed.map((v) => v.id)).toEqual([1]);
  });

  it("refuses settings that would delete everything", () => {
    expect(() =>
      pruneImages.selectVersionsToDelete([], { now, retentionDays: 0, keepNewest: 2 }),
    ).toThrow(/retentionDays/);
    expect(() =>
      pruneImages.selectVersionsToDelete([], { now, retentionDays: 30, keepNewest: 0 }),
    ).toThrow(/keepNewest/);
  });
});
