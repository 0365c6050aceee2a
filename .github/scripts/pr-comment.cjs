// The preview comment of one stack on a pull request, kept in one place and edited in place.
//
// pulumi/actions (v7.0.0, src/libs/pr.ts) writes its comment with the heading
// "#### :tropical_drink: `preview` on <project>/<stack>" and a "<summary>Pulumi report</summary>"; with
// `edit-pr-comment: true` it edits the comment that starts with that heading and holds that summary.
// When a preview fails (a mandatory policy, or an error) the action writes no comment at all, so
// preview.yml calls reportFailedPreview, which writes the failure into that same comment; the next
// passing preview turns it back into the action's report.
"use strict";

const SUMMARY = "<summary>Pulumi report</summary>";

/** The heading pulumi/actions gives the comment of `preview` on project/stack. */
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

/** The body written when the preview of project/stack failed. */
function failureBody({ project, stack, runUrl, sha }) {
  return [
    heading(project, stack),
    "",
    `:x: **The preview of \`${stack}\` failed** at ${sha}: a mandatory policy is violated or the`,
    "preview itself failed. This pull request cannot merge until it passes.",
    "",
    "<details>",
    SUMMARY,
    "",
    `The preview's log names each violation (\`[mandatory]\` lines) or the error: ${runUrl}`,
    "",
    "How to read and fix policy violations, and how waivers work: `docs/runbook.md` and `policy/README.md`.",
    "</details>",
  ].join("\n");
}

/** Writes the failure into the stack's comment on the current pull request, creating it if needed. */
async function reportFailedPreview({ github, context, project, stack }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const sha = context.payload.pull_request ? context.payload.pull_request.head.sha : context.sha;
  const body = failureBody({ project, stack, runUrl, sha });
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, {
    ...context.repo,
    issue_number,
    per_page: 100,
  });
  const existing = findStackComment(comments, project, stack);
  if (existing) {
    await github.rest.issues.updateComment({ ...context.repo, comment_id: existing.id, body });
  } else {
    await github.rest.issues.createComment({ ...context.repo, issue_number, body });
  }
}

module.exports = {
  SUMMARY,
  heading,
  projectName,
  findStackComment,
  failureBody,
  reportFailedPreview,
};
