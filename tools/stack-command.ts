import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../config/config-error";
import type { Evaluation } from "../offline/evaluate";
import { OutDirError, outDirProblem, userPath, type OutDirContext } from "./render/out-dir";
import { readProjectName, readStackConfig } from "../offline/stack-file";
import { StackFileError } from "../offline/stack-file-error";
import { optionsNpmTook, stackNameOf, stacksIn } from "./stack-name";

/** The checkout the commands run from. */
export const CHECKOUT = join(__dirname, "..");

/** What the commands that evaluate a stack (render, preview) share: their errors and their stack. */
export class StackCommand {
  constructor(
    private readonly prog: string,
    private readonly usage: string,
  ) {}

  /** Says what is wrong and exits: 2 for a usage or configuration problem, 1 otherwise. */
  fail(message: string, code: number): never {
    process.stderr.write(`${this.prog}: ${message}\n`);
    process.exit(code);
  }

  /** node:util's parseArgs, a mistake reported with the usage and exit 2. */
  parse<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
    // `help` aside: npm's own --help is npm's to answer.
    const took = optionsNpmTook(Object.keys(options).filter((o) => o !== "help"), argv);
    if (took.length > 0) {
      const names = took.map((o) => `--${o}`);
      const listed = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
      this.fail(`npm took ${listed} for its own settings, so this command never saw ${took.length === 1 ? "it" : "them"}: put \`--\` between \`npm run ${this.prog}\` and the options, as in \`npm run ${this.prog} -- --stack dev ...\``, 2);
    }
    try {
      return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
    } catch (err) {
      return this.fail(`${(err as Error).message}\n\n${this.usage}`, 2);
    }
  }

  /** Where the user ran the command and the checkout: what --out must not replace. */
  readonly outContext: OutDirContext = { cwd: userPath("."), checkout: CHECKOUT };

  /**
   * --out as an absolute path (relative to where the user ran npm), checked before anything
   * is evaluated: a directory a render must not replace is a usage error.
   */
  outDir(out: string): string {
    const target = userPath(out);
    const problem = outDirProblem(target, this.outContext);
    if (problem !== undefined) this.fail(`--out: ${problem} (nothing written)`, 2);
    return target;
  }

  /** The stack file to read: --config, or Pulumi.<stack>.yaml; it must exist. */
  configPath(given: string | undefined, config: string | undefined): { stack: string; path: string } {
    if (!given) this.fail(`--stack is required\n\n${this.usage}`, 2);
    const named = stackNameOf(given, readProjectName(join(CHECKOUT, "Pulumi.yaml")));
    if ("problem" in named) this.fail(named.problem, 2);
    const { stack } = named;
    if (config !== undefined) {
      const path = userPath(config);
      if (!existsSync(path)) this.fail(`--config: '${path}' does not exist`, 2);
      return { stack, path };
    }
    const path = join(CHECKOUT, `Pulumi.${stack}.yaml`);
    if (!existsSync(path)) {
      const stacks = stacksIn(CHECKOUT);
      const here = stacks.length === 0 ? "there is no stack file here" : `the stacks here are ${stacks.join(", ")}`;
      this.fail(`--stack '${given}': '${path}' does not exist; ${here} (or give a stack file with --config)`, 2);
    }
    return { stack, path };
  }

  /** Evaluates the stack offline; a configuration mistake ends it with exit 2, nothing written. */
  async evaluate(stack: string, path: string): Promise<Evaluation> {
    // Loaded only now: the Pulumi SDK takes a second to load, which --help and usage errors skip.
    const { evaluate } = await import("../offline/evaluate");
    const project = readProjectName(join(CHECKOUT, "Pulumi.yaml"));
    let config;
    try {
      config = readStackConfig(path);
    } catch (err) {
      if (err instanceof StackFileError) this.fail(`${path} is not a valid stack file:\n${err.message}\n(nothing written)`, 2);
      throw err;
    }
    process.stderr.write(`${this.prog}: evaluating ${project}/${stack} from ${path}\n`);
    try {
      return await evaluate(project, stack, config);
    } catch (err) {
      if (err instanceof ConfigError) this.fail(`${err.message}\n(nothing written)`, 2);
      throw err;
    }
  }

  /** Runs `main` and exits with its code; an unexpected error is exit 1 with its stack. */
  run(main: () => Promise<number>): void {
    main().then(
      (code) => process.exit(code),
      (err: unknown) => {
        // The directory changed between the check and the write: still the user's to fix.
        if (err instanceof OutDirError) this.fail(err.message, 2);
        this.fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
      },
    );
  }
}
