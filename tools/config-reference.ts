import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { referenceTable, withReference } from "../config/reference";

const USAGE = `Usage: npm run config-reference [-- --write]

Prints the config reference table (markdown) generated from config/reference.ts.
  --write   also replace the table in README.md between its config-reference markers`;

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`${USAGE}\n`);
} else if (process.argv.includes("--write")) {
  const readme = join(__dirname, "..", "README.md");
  writeFileSync(readme, withReference(readFileSync(readme, "utf8")));
  process.stderr.write(`config-reference: README.md updated\n`);
} else {
  process.stdout.write(`${referenceTable()}\n`);
}
