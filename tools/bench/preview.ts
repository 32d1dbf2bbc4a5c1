import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { wholeNumberOption } from "../whole-number-option";

const USAGE = `Usage: npm run bench:preview [-- --runs N]

Times what a pull request's preview costs on this machine, as CI runs it: \`npm run render\`
of the base, then \`npm run preview\` of the head against it (which renders the head), each
a fresh process. Prints the wall time of each and the total against the 5 s budget.

  --runs N   repeat N times and report the median (default 3)`;

const BUDGET_MS = 5000;
const ROOT = join(__dirname, "..", "..");

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync("npm", ["run", "--silent", ...args], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const runs = wholeNumberOption("bench:preview", USAGE, "runs", values.runs, 3, 1);
  const dir = mkdtempSync(join(tmpdir(), "bench-preview-"));
  const render: number[] = [];
  const preview: number[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`bench:preview: run ${i} of ${runs}\n`);
      render.push(timed(["render", "--", "--stack", "dev", "--out", join(dir, "base")]));
      preview.push(timed(["preview", "--", "--stack", "dev", "--base", join(dir, "base")]));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const total = median(render) + median(preview);
  process.stdout.write(
    [
      `render of the base:   ${median(render).toFixed(0)} ms`,
      `preview of the head:  ${median(preview).toFixed(0)} ms (renders the head, then compares)`,
      `both, wall:           ${total.toFixed(0)} ms = ${(total / BUDGET_MS).toFixed(2)} of the ${BUDGET_MS / 1000} s budget`,
      "",
    ].join("\n"),
  );
}

main();
