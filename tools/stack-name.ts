import { readdirSync } from "node:fs";

const NAME = /^[A-Za-z0-9._-]+$/;

/**
 * The stack a --stack value names. Pulumi writes a stack's full name, `ORG/PROJECT/STACK`
 * (what PULUMI_STACK holds in CI) or `ORG/STACK`; its file and its resources' names use the
 * last part only. A project part must be this project: another's stack file is not here.
 */
export function stackNameOf(given: string, project: string): { stack: string } | { problem: string } {
  const parts = given.split("/");
  // `.` and `..` would make Pulumi.<stack>.yaml a path elsewhere.
  if (parts.length > 3 || !parts.every((p) => NAME.test(p) && p !== "." && p !== "..")) {
    return { problem: `--stack '${given}': expected a stack name (letters, digits, '.', '_' or '-'), or ORG/PROJECT/STACK as Pulumi writes it` };
  }
  if (parts.length === 3 && parts[1] !== project) {
    return { problem: `--stack '${given}' is a stack of project '${parts[1]}'; this checkout is project '${project}' (Pulumi.yaml)` };
  }
  return { stack: parts[parts.length - 1] as string };
}

/** The stacks a checkout has a stack file for (Pulumi.<stack>.yaml), sorted. */
export function stacksIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * The command's options npm took for its own settings: `npm run render --stack dev` (without
 * `--`) sets npm_config_stack and hands the tool only `dev`. An option the tool was given
 * itself was not taken.
 */
export function optionsNpmTook(options: readonly string[], argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return options.filter((o) => env[`npm_config_${o.replace(/-/g, "_")}`] !== undefined && !argv.some((a) => a === `--${o}` || a.startsWith(`--${o}=`)));
}
