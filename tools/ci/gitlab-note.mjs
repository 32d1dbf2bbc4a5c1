// Posts FILE as the merge request's preview note, or edits the note posted before (it starts
// with the preview marker). For .gitlab-ci.example.yml; needs PREVIEW_TOKEN (api scope).
import { readFileSync } from "node:fs";

const MARKER = "<!-- canfar-batch-preview -->";
const [file] = process.argv.slice(2);
if (!file || file === "--help" || file === "-h") {
  process.stdout.write("usage: node tools/ci/gitlab-note.mjs FILE\nPosts or edits the merge request note that starts with the preview marker.\n");
  process.exit(file ? 0 : 2);
}
const { CI_API_V4_URL: api, CI_PROJECT_ID: project, CI_MERGE_REQUEST_IID: mr, PREVIEW_TOKEN: token } = process.env;
if (!api || !project || !mr || !token) {
  process.stderr.write("gitlab-note: needs CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID and PREVIEW_TOKEN\n");
  process.exit(2);
}
const body = readFileSync(file, "utf8");
const notes = `${api}/projects/${encodeURIComponent(project)}/merge_requests/${mr}/notes`;
const headers = { "PRIVATE-TOKEN": token, "Content-Type": "application/json" };
const existing = await (await fetch(`${notes}?per_page=100`, { headers })).json();
const mine = Array.isArray(existing) ? existing.find((n) => typeof n.body === "string" && n.body.startsWith(MARKER)) : undefined;
const res = await fetch(mine ? `${notes}/${mine.id}` : notes, { method: mine ? "PUT" : "POST", headers, body: JSON.stringify({ body }) });
if (!res.ok) {
  process.stderr.write(`gitlab-note: ${res.status} ${await res.text()}\n`);
  process.exit(1);
}
process.stderr.write(`gitlab-note: ${mine ? "updated" : "posted"} the preview note\n`);
