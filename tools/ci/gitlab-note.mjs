// Posts FILE as the merge request's preview note, or edits the note posted before (it starts
// with the preview marker). For .gitlab-ci.example.yml; needs PREVIEW_TOKEN (api scope).
// A missing or empty FILE (the job failed before the preview wrote it) posts a note saying
// so, with a link to the job. Without PREVIEW_TOKEN (a protected variable is not given to an
// unprotected branch's pipeline, nor to a fork's) it prints the note and warns, posting
// nothing: the job's status stays the preview's.
import { existsSync, readFileSync, statSync } from "node:fs";

const MARKER = "<!-- canfar-batch-preview -->";
const [file] = process.argv.slice(2);
if (!file || file === "--help" || file === "-h") {
  process.stdout.write("usage: node tools/ci/gitlab-note.mjs FILE\nPosts or edits the merge request note that starts with the preview marker.\n");
  process.exit(file ? 0 : 2);
}
const { CI_API_V4_URL: api, CI_PROJECT_ID: project, CI_MERGE_REQUEST_IID: mr, CI_JOB_URL: job, PREVIEW_TOKEN: token } = process.env;
const body =
  existsSync(file) && statSync(file).size > 0
    ? readFileSync(file, "utf8")
    : `${MARKER}\n### canfar-batch preview\n\nThe preview job failed before it could preview: see [the job](${job ?? "the pipeline"}).\n`;
if (!token) {
  process.stdout.write(body);
  process.stderr.write(
    "gitlab-note: warning: PREVIEW_TOKEN is not set in this pipeline, so no note is posted (the preview is above). " +
      "GitLab gives a protected variable only to pipelines of protected branches: unprotect PREVIEW_TOKEN (keep it masked).\n",
  );
  process.exit(0);
}
if (!api || !project || !mr) {
  process.stderr.write("gitlab-note: needs CI_API_V4_URL, CI_PROJECT_ID and CI_MERGE_REQUEST_IID (a merge request pipeline)\n");
  process.exit(2);
}
const notes = `${api}/projects/${encodeURIComponent(project)}/merge_requests/${mr}/notes`;
const headers = { "PRIVATE-TOKEN": token, "Content-Type": "application/json" };
const list = await fetch(`${notes}?per_page=100&sort=asc`, { headers });
if (!list.ok) {
  process.stderr.write(`gitlab-note: listing the notes: ${list.status} ${await list.text()}\n`);
  process.exit(1);
}
const existing = await list.json();
const mine = Array.isArray(existing) ? existing.find((n) => typeof n.body === "string" && n.body.startsWith(MARKER)) : undefined;
const res = await fetch(mine ? `${notes}/${mine.id}` : notes, { method: mine ? "PUT" : "POST", headers, body: JSON.stringify({ body }) });
if (!res.ok) {
  process.stderr.write(`gitlab-note: ${res.status} ${await res.text()}\n`);
  process.exit(1);
}
process.stderr.write(`gitlab-note: ${mine ? "updated" : "posted"} the preview note\n`);
