import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountNamespace } from "./mount-namespace";

/**
 * Every root this process has open, so none outlives it: closed on exit and on the usual
 * signals, and, for processes killed outright, swept up by the next process that opens one.
 */
export interface LiveRoot {
  ns: MountNamespace;
  /** The overlay's temp dir (upper, work, root), when there is one. */
  tmp?: string;
}

export const ORPHAN_PREFIX = "canfar-root-";

const live = new Set<LiveRoot>();
let hooksInstalled = false;

export function register(entry: LiveRoot): void {
  installHooks();
  live.add(entry);
}

export function unregister(entry: LiveRoot): void {
  live.delete(entry);
}

export function isLive(entry: LiveRoot): boolean {
  return live.has(entry);
}

/** Records who holds the overlay, so a later process can tell whether it was orphaned. */
export function writeHolder(entry: LiveRoot): void {
  if (entry.tmp === undefined) return;
  writeFileSync(join(entry.tmp, "holder"), `${entry.ns.pid} ${entry.ns.id}\n`);
}

function closeAllNow(): void {
  for (const entry of live) {
    entry.ns.closeNow();
    if (entry.tmp !== undefined) rmSync(entry.tmp, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * Last resort when a test never reaches its cleanup. On a signal the process would die
 * without an "exit" event: close everything, then die of the same signal as before.
 */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", closeAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      closeAllNow();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Removes overlay temp dirs left by a test process that was killed outright (SIGKILL, OOM):
 * a dir whose namespace holder is gone is no one's. Its mounts never lived on the host,
 * so deleting is safe once the processes left in it (an sshd, a condor_master) are ended.
 */
export function pruneOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(ORPHAN_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let holder: string[];
    try {
      holder = readFileSync(join(dir, "holder"), "utf8").trim().split(" ");
    } catch {
      continue; // Being set up right now, or not ours: leave it.
    }
    const [pid, nsId] = holder;
    if (pid === undefined || nsId === undefined || !/^[0-9]+$/.test(pid) || existsSync(`/proc/${pid}`)) continue;
    for (const orphan of MountNamespace.processesIn(nsId)) {
      // A namespace number can be reused: only processes chrooted into this very dir are its.
      if (rootOf(orphan)?.startsWith(`${dir}/`) !== true) continue;
      try {
        process.kill(orphan, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function rootOf(pid: number): string | undefined {
  try {
    return `${readlinkSync(`/proc/${pid}/root`)}/`;
  } catch {
    return undefined;
  }
}
