// images.yml: GHCR image retention. The architecture seed (§9.2) keeps Docker images 30 days; this
// deletes container versions older than that, but never one of the newest `keepNewest` tagged images
// (what runs in production and what a rollback goes back to), nor the untagged manifests pushed with
// them (platform images and attestations of a kept multi-platform image).
"use strict";

const DAY_MS = 24 * 60 * 60 * 1000;
// Untagged parts of an image are pushed shortly before its tagged index.
const PUSH_WINDOW_MS = 60 * 60 * 1000;

function tagsOf(version) {
  return (version.metadata && version.metadata.container && version.metadata.container.tags) || [];
}

/** The versions to delete, oldest first. Pure: `now` is a number of milliseconds. */
function selectVersionsToDelete(versions, { now, retentionDays, keepNewest }) {
  if (!(retentionDays > 0)) throw new Error(`retentionDays must be positive, got ${retentionDays}`);
  if (!(keepNewest >= 1)) throw new Error(`keepNewest must be at least 1, got ${keepNewest}`);
  const created = (v) => Date.parse(v.created_at);
  const tagged = versions
    .filter((v) => tagsOf(v).length > 0)
    .sort((a, b) => created(b) - created(a));
  if (tagged.length <= keepNewest) return [];
  const keepFrom = created(tagged[keepNewest - 1]) - PUSH_WINDOW_MS;
  const cutoff = now - retentionDays * DAY_MS;
  return versions
    .filter((v) => created(v) < cutoff && created(v) < keepFrom)
    .sort((a, b) => created(a) - created(b));
}

async function prune({ github, context, core, packages, retentionDays, keepNewest, dryRun }) {
  const owner = context.repo.owner;
  const isOrg =
    context.payload.repository && context.payload.repository.owner.type === "Organization";
  const who = isOrg ? { org: owner } : { username: owner };
  const list = isOrg
    ? github.rest.packages.getAllPackageVersionsForPackageOwnedByOrg
    : github.rest.packages.getAllPackageVersionsForPackageOwnedByUser;
  const remove = isOrg
    ? github.rest.packages.deletePackageVersionForOrg
    : github.rest.packages.deletePackageVersionForUser;
  let deleted = 0;
  for (const package_name of packages) {
    const versions = await github.paginate(list, {
      ...who,
      package_type: "container",
      package_name,
      per_page: 100,
    });
    const doomed = selectVersionsToDelete(versions, { now: Date.now(), retentionDays, keepNewest });
    core.info(
      `${package_name}: ${versions.length} versions, ${doomed.length} older than ${retentionDays} days to delete`,
    );
    for (const v of doomed) {
      const label = `${package_name} ${v.name} [${tagsOf(v).join(", ") || "untagged"}] created ${v.created_at}`;
      if (dryRun) {
        core.info(`would delete ${label}`);
        continue;
      }
      await remove({ ...who, package_type: "container", package_name, package_version_id: v.id });
      core.info(`deleted ${label}`);
      deleted += 1;
    }
  }
  return deleted;
}

module.exports = { selectVersionsToDelete, prune };
