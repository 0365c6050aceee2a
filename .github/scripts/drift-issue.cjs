// drift.yml: turns the outcome of `pulumi preview --refresh --expect-no-changes` of one stack into an
// issue: opened when the stack drifted, updated while it still drifts, closed once it is clean again.
// A preview that failed for another reason than drift fails the job instead of filing an issue.
"use strict";

// Pulumi's error when --expect-no-changes meets changes; newer CLIs name the operation
// ("no changes were expected for preview but changes were proposed").
const DRIFT_ERROR = /no changes were expected (?:for \S+ )?but changes were proposed/;
const LOG_LINES = 80;

/** "clean", "drift" or "error", from the step outcome and the preview's log. */
function classify(outcome, log) {
  if (outcome === "success") return "clean";
  return DRIFT_ERROR.test(log) ? "drift" : "error";
}

function issueTitle(stack) {
  return `Drift detected in ${stack}`;
}

/** The issue body: what drifted (the preview's resource lines, no property values) and what to do. */
function issueBody({ stack, log, runUrl }) {
  const lines = log
    .split("\n")
    .filter(
      (l) =>
        /^\s+[~+\-]{1,2}\s+\S+:\S+/.test(l) ||
        /^Resources:|^\s+(?:[~+\-]{1,2}\s+)?\d+ (?:to |unchanged)/.test(l),
    )
    .slice(0, LOG_LINES);
  return [
    `The scheduled refresh-preview of \`${stack}\` found changes between the live resources and the`,
    `stack's state (someone or something changed them outside Pulumi). Run: ${runUrl}`,
    "",
    "```text",
    ...(lines.length > 0 ? lines : ["(no resource lines in the log; open the run)"]),
    "```",
    "",
    'What to do: `docs/runbook.md`, section "Drift". Either bring the change into the code and deploy it,',
    `or put the resources back with \`pulumi up --stack ${stack}\` from \`main\`.`,
    "This issue is updated by every drift run and closed by the first run that finds no drift.",
  ].join("\n");
}

async function findOpenIssue(github, context, title) {
  const issues = await github.paginate(github.rest.issues.listForRepo, {
    ...context.repo,
    state: "open",
    per_page: 100,
  });
  return issues.find((i) => i.title === title && !i.pull_request);
}

async function report({ github, context, core, stack, outcome, log }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const verdict = classify(outcome, log);
  const title = issueTitle(stack);
  const open = await findOpenIssue(github, context, title);
  if (verdict === "drift") {
    const body = issueBody({ stack, log, runUrl });
    if (open) {
      await github.rest.issues.update({ ...context.repo, issue_number: open.number, body });
      await github.rest.issues.createComment({
        ...context.repo,
        issue_number: open.number,
        body: `Still drifting: ${runUrl}`,
      });
      core.warning(`${stack} drifted; updated #${open.number}`);
    } else {
      const created = await github.rest.issues.create({ ...context.repo, title, body });
      core.warning(`${stack} drifted; opened #${created.data.number}`);
    }
  } else if (verdict === "clean") {
    if (open) {
      await github.rest.issues.createComment({
        ...context.repo,
        issue_number: open.number,
        body: `No drift any more: ${runUrl}`,
      });
      await github.rest.issues.update({
        ...context.repo,
        issue_number: open.number,
        state: "closed",
      });
    }
    core.info(`${stack}: no drift`);
  } else {
    core.setFailed(
      `The refresh-preview of ${stack} failed for another reason than drift; read its log.`,
    );
  }
  return verdict;
}

module.exports = { DRIFT_ERROR, classify, issueTitle, issueBody, report };
