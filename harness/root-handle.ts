import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecResult } from "./exec";
import { isLive, ORPHAN_PREFIX, pruneOrphans, register, unregister, writeHolder, type LiveRoot } from "./live-roots";
import { MountNamespace } from "./mount-namespace";

export interface RunOptions {
  /** Run as this user of the root (through the root's own `runuser`); root when unset. */
  user?: string;
  stdin?: string;
  /** Added to a clean environment (PATH, HOME, USER, LANG): the host's never leaks in. */
  env?: Record<string, string>;
  /** Working directory inside the root; the user's home (or /) when unset. */
  cwd?: string;
  timeoutMs?: number;
}

/** A Debian root with /proc and /dev mounted, in a mount namespace of its own. */
export interface RootHandle {
  /** The root's directory as seen inside the namespace (pass it to chroot there). */
  readonly dir: string;
  readonly ns: MountNamespace;
  /**
   * Host-side path of a file in the root, for reading. Absolute symlinks inside the root
   * resolve against the HOST's / through this path: write into the root with run().
   */
  path(p: string): string;
  /** Runs argv, or a bash script when given a string, chrooted; never throws on exit codes. */
  run(cmd: string | readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Like run, but a non-zero exit throws with the output. */
  runOk(cmd: string | readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Starts a long-running process in the root (root user); the caller stops it by pid. */
  spawn(argv: readonly string[]): ChildProcess;
  /** Kills what runs in the root, unmounts in reverse order, removes temporary dirs. */
  cleanup(): Promise<void>;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Throwaway writable copy of `base` (overlayfs, upper and work dirs in a temp dir). */
export function mountOverlay(base: string, opts: { sys?: boolean } = {}): Promise<RootHandle> {
  return openRoot(base, { overlay: true, sys: opts.sys ?? false });
}

/** Runs `fn` on a throwaway overlay of `base`, cleaned up however `fn` ends. */
export async function withOverlay<T>(base: string, fn: (root: RootHandle) => Promise<T>, opts: { sys?: boolean } = {}): Promise<T> {
  const root = await mountOverlay(base, opts);
  try {
    return await fn(root);
  } finally {
    await root.cleanup();
  }
}

/**
 * Opens `base` as a root. With overlay, writes go to a temp dir and vanish at cleanup;
 * without, they go to `base` itself (used while building a cached root).
 */
export async function openRoot(base: string, opts: { overlay: boolean; sys: boolean }): Promise<RootHandle> {
  const ns = await MountNamespace.open();
  const entry: LiveRoot = { ns };
  register(entry);
  let dir = base;
  try {
    if (opts.overlay) {
      pruneOrphans();
      entry.tmp = mkdtempSync(join(tmpdir(), ORPHAN_PREFIX));
      writeHolder(entry);
      dir = `${entry.tmp}/root`;
    }
    // One process for all mounts: each nsenter costs tens of milliseconds.
    await ns.execOk(["bash", "-c", MOUNT_ROOT, "mount-root", base, entry.tmp ?? "", dir, opts.sys ? "1" : "0"], {
      // apt inside the root (cloud-init package installs) needs the host's resolver.
      stdin: readFileSync("/etc/resolv.conf", "utf8"),
    });
    const handle = makeHandle(ns, dir, entry);
    return handle;
  } catch (e) {
    await teardown(entry, dir);
    throw e;
  }
}

// A private tmpfs /dev with only the usual nodes: a bind of the host's /dev would let
// the root write into it. devpts is its own instance so the root's ptys are its own.
const MOUNT_ROOT = String.raw`set -eu
base="$1"; tmp="$2"; root="$3"; sys="$4"
if [ -n "$tmp" ]; then
  mkdir -p "$tmp/upper" "$tmp/work" "$root"
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$tmp/upper,workdir=$tmp/work" "$root"
fi
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=755,nosuid devtmpfs-canfar "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkdir -m 755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
if [ "$sys" = 1 ]; then mount -t sysfs -o ro sysfs "$root/sys"; fi
# rm first: a symlink there (systemd-resolved) would otherwise be followed out of the root.
rm -f "$root/etc/resolv.conf"
cat > "$root/etc/resolv.conf"
`;

function makeHandle(ns: MountNamespace, dir: string, entry: LiveRoot): RootHandle {
  const path = (p: string): string => ns.hostPath(`${dir}${p.startsWith("/") ? p : `/${p}`}`);
  const argvFor = (cmd: string | readonly string[], opts: RunOptions): string[] => {
    const inner = typeof cmd === "string" ? ["bash", "-c", cmd] : [...cmd];
    const user = opts.user;
    const home = user === undefined ? "/root" : homeOf(path("/etc/passwd"), user);
    const env = [`PATH=${PATH}`, "LANG=C.UTF-8", `HOME=${home}`, `USER=${user ?? "root"}`, `LOGNAME=${user ?? "root"}`];
    for (const [k, v] of Object.entries(opts.env ?? {})) env.push(`${k}=${v}`);
    const envArgv = ["/usr/bin/env", "-i", `--chdir=${opts.cwd ?? (user === undefined ? "/" : home)}`, ...env, ...inner];
    return user === undefined
      ? ["chroot", dir, ...envArgv]
      : ["chroot", dir, "/usr/sbin/runuser", "-u", user, "--", ...envArgv];
  };
  return {
    dir,
    ns,
    path,
    run: (cmd, opts = {}) => ns.exec(argvFor(cmd, opts), { stdin: opts.stdin, timeoutMs: opts.timeoutMs }),
    runOk: (cmd, opts = {}) => ns.execOk(argvFor(cmd, opts), { stdin: opts.stdin, timeoutMs: opts.timeoutMs }),
    spawn: (argv) =>
      spawn("nsenter", ["-t", String(ns.pid), "-m", "--", ...argvFor(argv, {})], { stdio: ["ignore", "pipe", "pipe"] }),
    cleanup: () => teardown(entry, dir),
  };
}

function homeOf(passwdPath: string, user: string): string {
  for (const line of readFileSync(passwdPath, "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === user && f[5] !== undefined) return f[5];
  }
  throw new Error(`no user '${user}' in the root's /etc/passwd`);
}

async function teardown(entry: LiveRoot, dir: string): Promise<void> {
  // A second cleanup (a test's finally, then afterEach) finds nothing left to do.
  if (!isLive(entry)) return;
  const { ns } = entry;
  await ns.killMembers();
  const targets = ns.mountsUnder(entry.tmp ?? dir);
  if (targets.length > 0) {
    await ns.exec(["sh", "-c", 'for t; do umount "$t" 2>/dev/null || umount -l "$t"; done', "unmount", ...targets]);
  }
  await ns.close();
  // Safe even if a mount had survived: mounts exist only in the namespace, never on the host.
  if (entry.tmp !== undefined) rmSync(entry.tmp, { recursive: true, force: true });
  unregister(entry);
}
