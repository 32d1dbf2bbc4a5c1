import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { referenceTable, withReference } from "../config/reference";

const USAGE = `Usage: npm run config-reference [-- --write | --check]

Prints the config reference table (markdown) generated from the key table (config/keys/).
  --write   also replace the table in README.md between its config-reference markers
  --check   change nothing; exit 1 if README.md's table is not the generated one`;

const readme = join(__dirname, "..", "README.md");

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`${USAGE}\n`);
} else if (process.argv.includes("--check")) {
  const text = readFileSync(readme, "utf8");
  if (withReference(text) !== text) {
    process.stderr.write("config-reference: README.md's table is not the generated one; run `npm run config-reference -- --write`\n");
    process.exitCode = 1;
  }
} else if (process.argv.includes("--write")) {
  writeFileSync(readme, withReference(readFileSync(readme, "utf8")));
  process.stderr.write(`config-reference: README.md updated\n`);
} else {
  process.stdout.write(`${referenceTable()}\n`);
}
