import { execFileSync } from "node:child_process";

/**
 * Tests that need root, a Debian package or a network stand-in call these helpers.
 * Outside CI a missing prerequisite skips the test with the reason printed; under
 * `CANFAR_BATCH_REQUIRE_ALL=1` (set by `.ci/run`) it fails instead, so CI never
 * passes by skipping.
 */
export const requireAll = process.env.CANFAR_BATCH_REQUIRE_ALL === "1";

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v "$1"`, "sh", cmd], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Returns the reason the prerequisites are missing, or undefined when all are there.
 * Under CANFAR_BATCH_REQUIRE_ALL=1 a missing prerequisite throws at collection time.
 */
export function missing(opts: { commands?: string[]; root?: boolean }): string | undefined {
  const reasons: string[] = [];
  if (opts.root && !isRoot()) reasons.push("needs root (mount, chroot)");
  for (const cmd of opts.commands ?? []) {
    if (!hasCommand(cmd)) reasons.push(`needs \`${cmd}\` on PATH`);
  }
  if (reasons.length === 0) return undefined;
  const reason = reasons.join("; ");
  if (requireAll) {
    throw new Error(`CANFAR_BATCH_REQUIRE_ALL=1 but a prerequisite is missing: ${reason}`);
  }
  console.warn(`skipping: ${reason}`);
  return reason;
}
