import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, parse as parsePath, relative, resolve } from "node:path";

/**
 * The file every render writes into its output directory. A render replaces its output
 * directory as a whole, so it replaces only a directory this file says an earlier render
 * made: `--out .` once removed a whole checkout with its `.git`.
 */
export const RENDER_MARKER = ".canfar-batch-render";
export const RENDER_MARKER_TEXT = "Written by `npm run render` (canfar-batch). The next render into this directory replaces all of it.\n";

/** An output directory the render must not replace: a usage error (exit 2), nothing touched. */
export class OutDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutDirError";
  }
}

/**
 * Where a path the user typed points: `npm run` runs the tool from the checkout, and says
 * where the user was in INIT_CWD, which is what a relative path means to them.
 */
export function userPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), path);
}

/** `inner` is `outer` or lies below it. */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** The path with symbolic links resolved as far as it exists (its missing tail kept as typed). */
function real(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(real(parent), relative(parent, path));
}

export interface OutDirContext {
  /** Where the user ran the command (INIT_CWD under npm). */
  cwd: string;
  /** The checkout the tool runs from. */
  checkout: string;
}

/**
 * Why `target` (absolute) must not be replaced by a render, or undefined when it may: it
 * does not exist, is empty, or holds an earlier render (its RENDER_MARKER).
 */
export function outDirProblem(target: string, context: OutDirContext): string | undefined {
  const path = real(target);
  if (path === parsePath(path).root) return `'${target}' is the file system's root; give a directory of its own, such as ./out`;
  if (within(real(context.checkout), path)) return `'${target}' holds this checkout (${context.checkout}); give a directory of its own, such as ./out`;
  if (within(real(context.cwd), path)) return `'${target}' is the directory you are working in${path === real(context.cwd) ? "" : ", or one above it"}; give a directory of its own, such as ./out`;
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isDirectory()) return `'${target}' is a file, not a directory; give a directory, such as ./out`;
  const entries = readdirSync(path);
  if (entries.includes(".git")) return `'${target}' is a git work tree; give a directory of its own, such as ./out`;
  if (entries.length === 0 || entries.includes(RENDER_MARKER)) return undefined;
  return `'${target}' is not empty and holds no earlier render (no ${RENDER_MARKER}); a render replaces its whole --out directory, so give a new or empty one (or remove this one yourself)`;
}

/** Throws an OutDirError when `target` must not be replaced. */
export function checkOutDir(target: string, context: OutDirContext): void {
  const problem = outDirProblem(target, context);
  if (problem !== undefined) throw new OutDirError(`--out: ${problem} (nothing written)`);
}
