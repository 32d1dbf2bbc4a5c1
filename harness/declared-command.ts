import { spawn } from "node:child_process";
import type { Evaluation } from "../offline/evaluate";
import { SECRET_MARK } from "../offline/capture";
import type { ExecResult } from "./exec";

/** A command resource's inputs as the program declared them (@pulumi/command local or remote). */
export interface DeclaredCommand {
  name: string;
  create: string;
  update?: string;
  delete?: string;
  dir?: string;
  environment: Record<string, string>;
  /** Plain stdin, or SECRET_MARK when the program made it a secret. */
  stdin?: string;
  triggers: unknown[];
}

function optionalString(inputs: Record<string, unknown>, key: string, name: string): string | undefined {
  const v = inputs[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new Error(`${name}.${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The command resource `name` from an evaluation, with its inputs checked to be what @pulumi/command takes. */
export function declaredCommand(e: Evaluation, name: string): DeclaredCommand {
  const r = e.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}; have ${e.resources.map((x) => x.name).join(", ")}`);
  if (r.type !== "command:local:Command" && r.type !== "command:remote:Command") throw new Error(`${name} is a ${r.type}, not a command`);
  const inputs = r.inputs as Record<string, unknown>;
  const create = optionalString(inputs, "create", name);
  if (create === undefined) throw new Error(`${name} declares no create command`);
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries((inputs.environment ?? {}) as Record<string, unknown>)) {
    if (typeof v !== "string") throw new Error(`${name}.environment.${k}: expected a string, got ${JSON.stringify(v)}`);
    environment[k] = v;
  }
  const update = optionalString(inputs, "update", name);
  const del = optionalString(inputs, "delete", name);
  const dir = optionalString(inputs, "dir", name);
  const stdin = optionalString(inputs, "stdin", name);
  return {
    name,
    create,
    environment,
    triggers: Array.isArray(inputs.triggers) ? inputs.triggers : [],
    ...(update === undefined ? {} : { update }),
    ...(del === undefined ? {} : { delete: del }),
    ...(dir === undefined ? {} : { dir }),
    ...(stdin === undefined ? {} : { stdin }),
  };
}

/** Fails loudly if the evaluation hid a value the test is about to run (a secret in the command itself). */
export function assertPlain(text: string, what: string): string {
  if (text.includes(SECRET_MARK.slice(0, -1))) throw new Error(`${what} holds a secret the evaluation hid: ${text.slice(0, 200)}`);
  return text;
}

/** @pulumi/command's local.Command interpreter on Linux and macOS when none is declared. */
export const LOCAL_INTERPRETER: readonly string[] = ["/bin/sh", "-c"];

export interface LocalRun {
  command: string;
  dir?: string;
  /** The whole environment of the process (the provider's own plus the declared one). */
  env: NodeJS.ProcessEnv;
  stdin?: string;
  timeoutMs?: number;
}

/**
 * Runs one of a local.Command's command strings as the provider does: the default
 * interpreter with the string as its single argument, in `dir`. A hang is killed (SIGKILL)
 * after timeoutMs so it fails the test instead of stalling the suite.
 */
export function runLocal(run: LocalRun): Promise<ExecResult> {
  const [shell, ...flags] = LOCAL_INTERPRETER;
  if (shell === undefined) throw new Error("empty interpreter");
  return new Promise((resolve, reject) => {
    const child = spawn(shell, [...flags, run.command], { cwd: run.dir, env: run.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), run.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(run.stdin ?? "");
  });
}

/**
 * What the provider keeps as the `stdout` output and hands the next update/delete as
 * PULUMI_COMMAND_STDOUT: the captured text without its final newline.
 */
export function keptStdout(stdout: string): string {
  return stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout;
}
