import { spawn } from "node:child_process";

/**
 * Runs `fn` holding an exclusive flock(1) on `path`. The lock lives in a child process that
 * exits when its stdin closes, so it is released when `fn` ends and also when this
 * process dies: parallel vitest workers (or a killed one) never deadlock each other.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const child = spawn("flock", ["-x", path, "sh", "-c", "echo locked; exec cat >/dev/null"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`flock ${path} exited ${code} before locking`)));
    child.stdout?.once("data", () => resolve());
  });
  try {
    return await fn();
  } finally {
    child.stdin?.end();
    await exited;
  }
}
