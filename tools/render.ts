import { StackCommand } from "./stack-command";

const USAGE = `Usage: npm run render -- --stack <name> [--config <stack config YAML>] --out <dir> [--detail]

Evaluates the Pulumi program offline, under Pulumi's mock runtime, with a stack's
configuration, and writes what \`pulumi up\` would declare, without a cloud or the Pulumi CLI:

  plan.json            every resource: type, name, parent, dependencies, inputs
                       (secret values appear as "[secret]"), and the stack outputs
  graph.dot, graph.svg the stack at a glance: a box per component (key pair, network,
                       VM, provisioning, snapshot, submission) in creation order, its
                       steps listed inside in the order they run; arrows between boxes
                       say which waits for which (redundant ones left out)
  graph-detail.dot, graph-detail.svg
                       with --detail: every resource and every dependency edge
  cloud-init/<vm>.yaml exactly the user-data each instance gets
  ssh/<step>/...       the files provisioning delivers over SSH, as delivered

Options:
  --stack <name>    stack name, or ORG/PROJECT/STACK as PULUMI_STACK holds it (reads
                    Pulumi.<name>.yaml unless --config is given)
  --config <file>   stack configuration file to use instead of Pulumi.<stack>.yaml
  --out <dir>       output directory, relative to where you run npm; replaced as a whole
                    only when the render succeeds, and only if it is new, empty or an
                    earlier render (it holds .canfar-batch-render): never a git work tree,
                    this checkout, or the directory you are in or one above it
  --detail          also draw the full resource graph (graph-detail.dot, graph-detail.svg)
  -h, --help        this text

Secrets (\`secure:\` values) cannot be decrypted offline; they are replaced by placeholders
and rendered as "[secret]".

Exit codes: 0 rendered; 2 invalid arguments or configuration (nothing written); 1 other error.`;

// Typed explicitly so that TypeScript narrows after a call that never returns.
const cli: StackCommand = new StackCommand("render", USAGE);

async function main(argv: string[]): Promise<number> {
  const values = cli.parse(argv, {
    stack: { type: "string" },
    config: { type: "string" },
    out: { type: "string" },
    detail: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { stack, path } = cli.configPath(values.stack, values.config);
  if (!values.out) cli.fail(`--out is required\n\n${USAGE}`, 2);
  const out = cli.outDir(values.out);
  const evaluation = await cli.evaluate(stack, path);
  const { renderFiles, writeAtomically } = await import("./render/write");
  const files = await renderFiles(evaluation, { detail: values.detail === true });
  const written = writeAtomically(out, files, cli.outContext);
  process.stderr.write(`render: ${evaluation.resources.length} resources, ${files.size} files written to ${written}\n`);
  return 0;
}

cli.run(() => main(process.argv.slice(2)));
