import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FORMATS, type Format } from "./preview/format";
import { CHECKOUT, StackCommand } from "./stack-command";

const USAGE = `Usage: npm run preview -- --stack <name> --base <dir> [--config <file>] [--format text|markdown|json] [--out <dir>]
       npm run preview -- --engine-json <file> [--format text|markdown|json]
       npm run preview -- --rules

Predicts, offline, what \`pulumi up\` will do to a running stack: renders the stack as
\`npm run render\` does and compares it with an earlier render (its plan.json), then prints
each resource's step (create, update, replace and whether the old one goes first, delete,
same) with the inputs that caused it, and what that means: the build VM replaced,
provisioning re-run from a step, a new worker image, a new submission. Steps the cloud would
refuse (a name or port two resources would hold at once) are flagged.

Options:
  --stack <name>        stack to render, or ORG/PROJECT/STACK (reads Pulumi.<name>.yaml
                        unless --config is given)
  --config <file>       stack configuration file to use instead of Pulumi.<stack>.yaml
  --base <dir>          an earlier render (npm run render -- --out <dir>), e.g. of main
  --out <dir>           also write this render there (the base of the next preview)
  --format <format>     text (default), markdown (a pull request comment) or json (the
                        shape of \`pulumi preview --json\`: steps and changeSummary)
  --engine-json <file>  format a real \`pulumi preview --json --show-replacement-steps\`
                        instead of predicting (no render, no --base)
  --rules               print which inputs replace which resources, and where that comes from
  -h, --help            this text

Exit codes: 0 every step is safe; 3 a step is flagged unsafe; 2 invalid arguments or
configuration (nothing written); 1 other error.`;

// Typed explicitly so that TypeScript narrows after a call that never returns.
const cli: StackCommand = new StackCommand("preview", USAGE);
const fail: (message: string, code: number) => never = (message, code) => cli.fail(message, code);

async function main(argv: string[]): Promise<number> {
  const values = cli.parse(argv, {
    stack: { type: "string" },
    config: { type: "string" },
    base: { type: "string" },
    out: { type: "string" },
    format: { type: "string", default: "text" },
    "engine-json": { type: "string" },
    rules: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format = values.format as Format;
  if (!FORMATS.includes(format)) fail(`--format '${values.format}': expected one of ${FORMATS.join(", ")}`, 2);
  if (values.rules) {
    const { rulesTable } = await import("./preview/provider-rules");
    process.stdout.write(`${rulesTable()}\n`);
    return 0;
  }
  const { describeSteps, exitCodeOf, predict } = await import("./preview/predict");
  const { formatPrediction } = await import("./preview/format");

  if (values["engine-json"] !== undefined) {
    if (values.stack || values.base) fail("--engine-json formats a real preview: it takes no --stack or --base", 2);
    const file = values["engine-json"];
    if (!existsSync(file)) fail(`--engine-json: '${file}' does not exist`, 2);
    const { EngineJsonError, stepsFromEngineJson } = await import("./preview/engine-json");
    let prediction;
    try {
      prediction = describeSteps(stepsFromEngineJson(readFileSync(file, "utf8"), file), `pulumi preview (${file})`);
    } catch (err) {
      if (err instanceof EngineJsonError) fail(err.message, 2);
      throw err;
    }
    process.stdout.write(formatPrediction(prediction, format));
    return exitCodeOf(prediction);
  }

  const { stack, path } = cli.configPath(values.stack, values.config);
  if (!values.base) fail(`--base is required (a directory holding an earlier render's plan.json)\n\n${USAGE}`, 2);
  const basePlan = join(values.base, "plan.json");
  if (!existsSync(basePlan)) fail(`--base: '${basePlan}' does not exist; make it with \`npm run render -- --stack ${stack} --out ${values.base}\``, 2);
  const { readPlan, relativeToRoot } = await import("./preview/read-plan");
  let base;
  try {
    base = readPlan(basePlan);
  } catch (err) {
    fail(`--base: ${(err as Error).message}`, 2);
  }

  const out = values.out === undefined ? undefined : cli.outDir(values.out);
  const started = Date.now();
  const evaluation = await cli.evaluate(stack, path);
  const rendered = Date.now();
  if (out !== undefined) {
    const { renderFiles, writeAtomically } = await import("./render/write");
    writeAtomically(out, await renderFiles(evaluation), cli.outContext);
  }
  const prediction = predict(base, relativeToRoot(evaluation.resources, CHECKOUT), `${stack} against ${values.base}`);
  process.stdout.write(formatPrediction(prediction, format));
  process.stderr.write(`preview: ${evaluation.resources.length} resources rendered in ${rendered - started} ms, compared in ${Date.now() - rendered} ms\n`);
  return exitCodeOf(prediction);
}

cli.run(() => main(process.argv.slice(2)));
