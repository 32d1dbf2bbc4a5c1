// Prints the error diagnostics of a failed `pulumi preview --json` (FILE): with --json the
// engine reports why it failed there, not on stderr. Prints nothing for anything else.
// For tools/ci/preview-job.sh.
import { readFileSync } from "node:fs";

const [file] = process.argv.slice(2);
if (!file || file === "--help" || file === "-h") {
  process.stdout.write("usage: node tools/ci/engine-errors.mjs FILE\nPrints the error diagnostics of a pulumi preview --json output.\n");
  process.exit(file ? 0 : 2);
}
let doc;
try {
  doc = JSON.parse(readFileSync(file, "utf8"));
} catch {
  process.exit(0);
}
const diagnostics = Array.isArray(doc?.diagnostics) ? doc.diagnostics : [];
for (const d of diagnostics) {
  if (d?.severity === "error" && typeof d.message === "string") process.stdout.write(`${d.urn ? `${d.urn}: ` : ""}${d.message.trimEnd()}\n`);
}
