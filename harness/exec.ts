import { spawn } from "node:child_process";

/** What a finished process left behind. */
export interface ExecResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the child's standard input, then closed (an empty stdin when unset). */
  stdin?: string;
  /** Replaces the whole environment when given (tests must not leak the host's). */
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long: a hang must fail the test, not stall the suite. */
  timeoutMs?: number;
}

/** Runs argv to completion and never throws on a non-zero exit: callers assert on it. */
export function execCommand(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error("execCommand: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 128,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    // A child that exits without reading stdin makes the write fail with EPIPE: not an error here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Like execCommand, but a non-zero exit throws with the command and its stderr. */
export async function execOk(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execCommand(argv, opts);
  if (r.code !== 0) {
    throw new Error(`\`${argv.join(" ")}\` exited ${r.code}${r.signal ? ` (${r.signal})` : ""}:\n${tail(r.stderr)}${tail(r.stdout)}`);
  }
  return r;
}

/** The last lines of a long output: enough to see why, short enough to read in a test report. */
function tail(text: string, lines = 40): string {
  const all = text.split("\n");
  return all.length <= lines ? text : `[... ${all.length - lines} lines]\n${all.slice(-lines).join("\n")}`;
}
