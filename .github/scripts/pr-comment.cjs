// The preview comment of one stack on a pull request, kept in one place and edited in place.
//
// preview.yml runs `pulumi preview --event-log` itself (pulumi/actions cannot keep the engine's events)
// and calls reportPreview after every preview, passed or failed: the comment is the policy findings
// table of policy-report.cjs, or the error's own text when the preview failed for another reason,
// with the preview's output folded below. It keeps the heading and fold pulumi/actions (v7.0.0,
// src/libs/pr.ts) gave its comments, "#### :tropical_drink: `preview` on <project>/<stack>" and
// "<summary>Pulumi report</summary>", so a comment written before this change is edited, not doubled.
"use strict";

const report = require("./policy-report.cjs");

const SUMMARY = report.LOG_SUMMARY;

/** The heading of the comment of `preview` on project/stack. */
function heading(project, stack) {
  return `#### :tropical_drink: \`preview\` on ${project}/${stack}`;
}

/** The project name from the text of Pulumi.yaml. */
function projectName(pulumiYaml) {
  const match = /^name:\s*["']?([^"'\s#]+)/m.exec(pulumiYaml);
  if (!match) throw new Error("Pulumi.yaml has no top-level `name:`");
  return match[1];
}

/** The comment that belongs to project/stack, or undefined. */
function findStackComment(comments, project, stack) {
  const head = heading(project, stack);
  return comments.find(
    (c) => typeof c.body === "string" && c.body.startsWith(head) && c.body.includes(SUMMARY),
  );
}

/** The comment of project/stack for a preview: heading, then the report, within GitHub's limit. */
function commentBody({ project, stack, preview, runUrl, sha }) {
  return report.renderReport(preview, {
    stack,
    sha,
    runUrl,
    heading: heading(project, stack),
    limit: report.COMMENT_LIMIT,
    includeLog: true,
  });
}

/** Creates the stack's comment on the current pull request, or edits the one it already has. */
async function upsertStackComment({ github, context, project, stack, body }) {
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, {
    ...context.repo,
    issue_number,
    per_page: 100,
  });
  const existing = findStackComment(comments, project, stack);
  if (existing) {
    await github.rest.issues.updateComment({ ...context.repo, comment_id: existing.id, body });
    return existing.id;
  }
  const created = await github.rest.issues.createComment({ ...context.repo, issue_number, body });
  return created && created.data ? created.data.id : undefined;
}

/**
 * Writes the preview of project/stack into its comment: `outcome` is the preview step's ("success" or
 * "failure"), `eventsFile` its event log and `logFile` its output (a missing file reads as empty:
 * the CLI may stop before it writes either). Returns the body.
 */
async function reportPreview({ github, context, project, stack, outcome, eventsFile, logFile }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const sha = context.payload.pull_request ? context.payload.pull_request.head.sha : context.sha;
  const preview = report.readPreview({
    events: report.readText(eventsFile),
    log: report.readText(logFile),
    outcome,
    stack,
  });
  const body = commentBody({ project, stack, preview, runUrl, sha });
  await upsertStackComment({ github, context, project, stack, body });
  return body;
}

module.exports = {
  SUMMARY,
  heading,
  projectName,
  findStackComment,
  commentBody,
  upsertStackComment,
  reportPreview,
};
