import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/config-error";

const USAGE = `Usage: npm run render -- --stack <name> [--config <stack config YAML>] --out <dir>

Evaluates the Pulumi program offline, under Pulumi's mock runtime, with a stack's
configuration, and writes what \`pulumi up\` would declare, without a cloud or the Pulumi CLI:

  plan.json            every resource: type, name, parent, dependencies, inputs
                       (secret values appear as "[secret]"), and the stack outputs
  graph.dot, graph.svg the resource graph (components as boxes, edges = dependencies)
  cloud-init/<vm>.yaml exactly the user-data each instance gets
  ssh/<step>/...       the files provisioning delivers over SSH, as delivered

Options:
  --stack <name>    stack name (reads Pulumi.<name>.yaml unless --config is given)
  --config <file>   stack configuration file to use instead of Pulumi.<stack>.yaml
  --out <dir>       output directory; replaced as a whole only when the render succeeds
  -h, --help        this text

Secrets (\`secure:\` values) cannot be decrypted offline; they are replaced by placeholders
and rendered as "[secret]".

Exit codes: 0 rendered; 2 invalid arguments or configuration (nothing written); 1 other error.`;

function fail(message: string, code: number): never {
  process.stderr.write(`render: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        config: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.stack) fail(`--stack is required\n\n${USAGE}`, 2);
  if (!values.out) fail(`--out is required\n\n${USAGE}`, 2);
  if (!/^[A-Za-z0-9._-]+$/.test(values.stack)) fail(`--stack '${values.stack}': expected letters, digits, '.', '_' or '-'`, 2);
  const root = join(__dirname, "..");
  const configPath = values.config ?? join(root, `Pulumi.${values.stack}.yaml`);
  if (!existsSync(configPath)) fail(`--config: '${configPath}' does not exist`, 2);

  // Loaded only now: the Pulumi SDK takes a second to load, which --help and usage errors skip.
  const [{ evaluate }, { readProjectName, readStackConfig }, { renderFiles, writeAtomically }] = await Promise.all([
    import("./render/evaluate"),
    import("./render/stack-file"),
    import("./render/write"),
  ]);
  const project = readProjectName(join(root, "Pulumi.yaml"));
  process.stderr.write(`render: evaluating ${project}/${values.stack} from ${configPath}\n`);
  let evaluation;
  try {
    evaluation = await evaluate(project, values.stack, readStackConfig(configPath));
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n(nothing written)`, 2);
    throw err;
  }
  const files = await renderFiles(evaluation);
  writeAtomically(values.out, files);
  process.stderr.write(`render: ${evaluation.resources.length} resources, ${files.size} files written to ${values.out}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1),
);
