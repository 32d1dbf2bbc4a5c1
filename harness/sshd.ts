import { createServer, connect } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCommand, type ExecResult } from "./exec";
import type { RootHandle } from "./root-handle";

export interface SshdHandle {
  port: number;
  /** The server's ed25519 public host key, as `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** What sshd wrote to stderr so far (its -e log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Runs the root's own sshd on 127.0.0.1 (never any other address), key logins only, root
 * refused. UsePAM stays on as on Ubuntu images: without it sshd refuses users whose
 * password is locked, which is every user useradd makes.
 */
export async function startSshd(root: RootHandle, opts: { port?: number; options?: readonly string[]; wrap?: readonly string[] } = {}): Promise<SshdHandle> {
  await root.runOk("ssh-keygen -A >/dev/null && mkdir -p -m 755 /run/sshd");
  const port = opts.port ?? (await freePort());
  // wrap: what runs sshd, e.g. nsenter into a root's UTS namespace (it execs sshd: same pid).
  const child = root.spawn([
    ...(opts.wrap ?? []),
    "/usr/sbin/sshd", "-D", "-e",
    "-o", "ListenAddress=127.0.0.1",
    "-o", `Port=${port}`,
    "-o", "PermitRootLogin=no",
    "-o", "PasswordAuthentication=no",
    "-o", "KbdInteractiveAuthentication=no",
    "-o", "PubkeyAuthentication=yes",
    "-o", "UsePAM=yes",
    ...(opts.options ?? []).flatMap((o) => ["-o", o]),
  ]);
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  child.stdout?.resume();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const pid = child.pid;
  const stop = async (): Promise<void> => {
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, "SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitForPort(port, () => child.exitCode !== null, 15_000);
  } catch (e) {
    await stop();
    throw new Error(`sshd did not start on 127.0.0.1:${port}: ${(e as Error).message}\n${stderr}`);
  }
  const hostKey = readFileSync(root.path("/etc/ssh/ssh_host_ed25519_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
  return { port, hostKey, log: () => stderr, stop };
}

/** A port the kernel just handed out on 127.0.0.1 (tiny race with other binders: fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, dead: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead()) throw new Error("sshd exited");
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening after ${timeoutMs} ms`);
}

export interface SshTarget {
  port: number;
  user: string;
  /** The private key file, or the socket of an ssh-agent holding the key (then no key file). */
  keyPath?: string;
  agentSocket?: string;
  /**
   * The host key to pin (`ssh-ed25519 AAAA...`), as the program's connections do: any other
   * key is refused before anything is sent. Unset: not checked (fixtures of the tests' own).
   */
  hostKey?: string;
}

// One known_hosts file per pinned host, written on first use: a replay makes hundreds of calls.
const knownHosts = new Map<string, string>();

function knownHostsFile(port: number, hostKey: string): string {
  const line = `[127.0.0.1]:${port} ${hostKey}\n`;
  let file = knownHosts.get(line);
  if (file === undefined) {
    file = join(mkdtempSync(join(tmpdir(), "known-hosts-")), "known_hosts");
    writeFileSync(file, line);
    knownHosts.set(line, file);
  }
  return file;
}

/** `ssh -o` options that accept exactly `hostKey` for 127.0.0.1:port, through a known_hosts file of its own. */
export function hostKeyOptions(port: number, hostKey: string | undefined): string[] {
  if (hostKey === undefined) return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  const file = knownHostsFile(port, hostKey);
  return ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${file}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", `HostKeyAlgorithms=${hostKey.split(" ")[0]}`];
}

/** The message a refused host key gives: the host and the key it should have had. */
export function hostKeyRefusal(port: number, hostKey: string, stderr: string): string | undefined {
  if (!/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) return undefined;
  return `refused 127.0.0.1:${port}: its host key is not the pinned ${hostKey}`;
}

/** The ssh/scp options and environment that authenticate as `target` says, and only so. */
export function sshAuthOptions(target: Pick<SshTarget, "keyPath" | "agentSocket">): { options: string[]; env: NodeJS.ProcessEnv } {
  if (target.agentSocket) {
    return { options: ["-o", "IdentityFile=none", "-o", `IdentityAgent=${target.agentSocket}`], env: { ...process.env, SSH_AUTH_SOCK: target.agentSocket } };
  }
  if (!target.keyPath) throw new Error("SshTarget: a keyPath or an agentSocket is needed");
  const { SSH_AUTH_SOCK: _agent, ...env } = process.env;
  return { options: ["-i", target.keyPath, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"], env };
}

/** Runs `command` over real SSH to 127.0.0.1 with the host's `ssh` client, non-interactively. */
export function sshRun(target: SshTarget, command: string, stdin?: string): Promise<ExecResult> {
  const auth = sshAuthOptions(target);
  return execCommand(
    [
      "ssh",
      ...auth.options,
      "-p", String(target.port),
      ...hostKeyOptions(target.port, target.hostKey),
      "-o", "BatchMode=yes",
      "-o", "LogLevel=ERROR",
      "-o", "ConnectTimeout=10",
      `${target.user}@127.0.0.1`,
      command,
    ],
    { stdin, timeoutMs: 120_000, env: auth.env },
  );
}
