import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execOk } from "../../harness/exec";

/** A real ssh-agent of the test's own, holding the keys given to it. */
export interface SshAgent {
  socket: string;
  stop(): Promise<void>;
}

export async function startSshAgent(keyPaths: readonly string[]): Promise<SshAgent> {
  const dir = mkdtempSync(join(tmpdir(), "ssh-agent-"));
  const socket = join(dir, "agent.sock");
  // -D: in the foreground, so the agent is this child and ends by its pid.
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(socket)) throw new Error("ssh-agent did not create its socket");
    for (const key of keyPaths) await execOk(["ssh-add", "-q", key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  } catch (e) {
    await stop();
    throw e;
  }
  return { socket, stop };
}
