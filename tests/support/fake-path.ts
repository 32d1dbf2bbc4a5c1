import { afterEach, beforeEach } from "vitest";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCommand, type ExecResult } from "../../harness/exec";

/** A PATH holding only the fakes a test writes (and cat, which usage heredocs need). */
export interface FakePath {
  /** Writes an executable fake `name` running the bash `body`. */
  fake(name: string, body?: string): void;
  /** Runs `bash SCRIPT args...` with that PATH and nothing else in the environment. */
  run(script: string, args: readonly string[]): Promise<ExecResult>;
}

/**
 * Registers hooks giving each test of the calling `describe` a fresh, empty PATH directory:
 * for scripts whose only input is which tools exist and how they answer.
 */
export function freshFakePath(): FakePath {
  let bin = "";
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), "fake-path-"));
    symlinkSync("/bin/cat", join(bin, "cat"));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));
  return {
    fake: (name, body = "") => writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 }),
    run: (script, args) => execCommand(["/bin/bash", script, ...args], { env: { PATH: bin }, timeoutMs: 20_000 }),
  };
}
