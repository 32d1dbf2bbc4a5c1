import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { execCommand, execOk, type ExecOptions, type ExecResult } from "./exec";

/**
 * A private mount namespace held open by one small process. Every mount a test makes
 * lives in it, so nothing can ever cover the host's /mnt or /dev, and the kernel drops
 * whatever is left when the namespace's last process ends (the holder exits as soon as
 * Node closes its stdin, including when Node itself dies).
 */
export class MountNamespace {
  private constructor(
    private readonly holder: ChildProcess,
    readonly pid: number,
    private readonly nsLink: string,
  ) {}

  static async open(): Promise<MountNamespace> {
    const holder = spawn(
      "unshare",
      ["--mount", "--propagation", "private", "--", "sh", "-c", "echo ready; exec cat >/dev/null"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.once("error", reject);
      holder.once("exit", (code) => reject(new Error(`unshare exited ${code} before the namespace was ready`)));
      holder.stdout?.once("data", () => resolve());
    });
    const pid = holder.pid;
    if (pid === undefined) throw new Error("unshare started without a pid");
    return new MountNamespace(holder, pid, readlinkSync(`/proc/${pid}/ns/mnt`));
  }

  /** Runs argv inside the namespace (same root as the host until a chroot says otherwise). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execCommand(["nsenter", "-t", String(this.pid), "-m", "--", ...argv], opts);
  }

  execOk(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execOk(["nsenter", "-t", String(this.pid), "-m", "--", ...argv], opts);
  }

  /** Host-side path of `p` as the namespace sees it (reads through /proc/<pid>/root). */
  hostPath(p: string): string {
    return `/proc/${this.pid}/root${p}`;
  }

  /** Mount points under `prefix`, last mounted first: the order to unmount them in. */
  mountsUnder(prefix: string): string[] {
    const lines = readFileSync(`/proc/${this.pid}/mountinfo`, "utf8").trim().split("\n");
    const targets = lines
      .map((l) => unescapeMountPath(l.split(" ")[4] ?? ""))
      .filter((t) => t === prefix || t.startsWith(`${prefix}/`));
    return targets.reverse();
  }

  /** The namespace's identity (`mnt:[inode]`), to find its processes after the holder is gone. */
  get id(): string {
    return this.nsLink;
  }

  /** Pids of every process in this namespace except the holder: all were started by us. */
  members(): number[] {
    return MountNamespace.processesIn(this.nsLink).filter((pid) => pid !== this.pid);
  }

  /** Pids of the processes in the mount namespace `nsLink` (as read from /proc/<pid>/ns/mnt). */
  static processesIn(nsLink: string): number[] {
    const pids: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(name)) continue;
      try {
        if (readlinkSync(`/proc/${name}/ns/mnt`) === nsLink) pids.push(Number(name));
      } catch {
        // The process ended while we looked, or is not ours to read: either way not a member.
      }
    }
    return pids;
  }

  /** SIGTERM every member, then SIGKILL what is still there after `graceMs`. */
  async killMembers(graceMs = 2_000): Promise<void> {
    let pids = this.members();
    for (const pid of pids) signal(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (pids.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      pids = this.members();
    }
    for (const pid of pids) signal(pid, "SIGKILL");
  }

  /** Ends the holder; the kernel then releases any mount still in the namespace. */
  async close(): Promise<void> {
    if (this.holder.exitCode !== null || this.holder.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.holder.once("exit", () => r()));
    this.holder.stdin?.end();
    await exited;
  }

  /** Synchronous last resort for process exit: no awaiting possible there. */
  closeNow(): void {
    for (const pid of this.members()) signal(pid, "SIGKILL");
    signal(this.pid, "SIGKILL");
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
