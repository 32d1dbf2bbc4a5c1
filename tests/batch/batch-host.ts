import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay, type RootHandle } from "../../harness/debian-root";
import { execCommand, type ExecResult } from "../../harness/exec";
import { addSshUser, writeRootFile } from "../../harness/root-files";
import { makeSshKey } from "../../harness/ssh-key";
import { sshAuthOptions, sshRun, startSshd, type SshdHandle, type SshTarget } from "../../harness/sshd";
import { CADC_DOUBLES_DIR, DOUBLES_DIR } from "../../harness/doubles/doubles-dir";

export const BATCH_USER = "batch";
/** Where the doubles keep their call log and submitted files, inside the root. */
export const DOUBLE_STATE = "/var/tmp/canfar-double";
const CANFAR_DOUBLES = ["canfar_submit", "condor_submit", "condor_q", "condor_history", "condor_rm"];
/** The VOSpace client's doubles submit.sh and campaign.sh call on the batch host. */
const VOS_DOUBLES = ["vls", "vmkdir", "vcp", "vrm"];
const VOS_DOUBLES_DIR = CADC_DOUBLES_DIR;
/** The VOSpace stand-in: vos:PATH is VOSPACE/PATH inside the root. */
export const VOSPACE = "/srv/vospace";
/** The VOSpace doubles' call log ("TOOL ARGS" lines), inside the root. */
export const VOS_LOG = `${DOUBLE_STATE}/cadc.log`;

/**
 * Stand-in for CANFAR's batch host: a throwaway Debian root whose own sshd listens on
 * 127.0.0.1, a batch user reached with a test key, and the canfar_submit / condor_*
 * doubles on its PATH. Scenarios go in /etc/canfar-double.conf because SSH does not
 * carry the caller's environment.
 */
export class BatchHost {
  private constructor(
    readonly root: RootHandle,
    private readonly sshd: SshdHandle,
    readonly target: SshTarget,
    private readonly keyDir: string,
  ) {}

  static async start(): Promise<BatchHost> {
    const base = await cachedRoot(BUILD_VM_RECIPE);
    const root = await mountOverlay(base);
    const keyDir = mkdtempSync(join(tmpdir(), "batch-host-key-"));
    try {
      const key = await makeSshKey(keyDir);
      await addSshUser(root, BATCH_USER, key.publicKey);
      await root.runOk(["install", "-d", "-m", "1777", DOUBLE_STATE]);
      for (const name of [...CANFAR_DOUBLES, "canfar-double-conf.sh"]) {
        await writeRootFile(root, `/usr/local/lib/canfar-doubles/${name}`, readFileSync(join(DOUBLES_DIR, name), "utf8"), "755");
      }
      for (const name of CANFAR_DOUBLES) {
        await root.runOk(["ln", "-sf", `/usr/local/lib/canfar-doubles/${name}`, `/usr/local/bin/${name}`]);
      }
      for (const name of [...VOS_DOUBLES, "cadc-auth.sh", "transfer-cost.sh"]) {
        await writeRootFile(root, `/usr/local/lib/cadc-doubles/${name}`, readFileSync(join(VOS_DOUBLES_DIR, name), "utf8"), "755");
      }
      for (const name of VOS_DOUBLES) {
        await root.runOk(["ln", "-sf", `/usr/local/lib/cadc-doubles/${name}`, `/usr/local/bin/${name}`]);
      }
      await root.runOk(["install", "-d", "-m", "755", "-o", BATCH_USER, "-g", BATCH_USER, VOSPACE]);
      const sshd = await startSshd(root);
      const host = new BatchHost(root, sshd, { port: sshd.port, user: BATCH_USER, keyPath: key.privateKeyPath }, keyDir);
      await host.configure({});
      return host;
    } catch (e) {
      await root.cleanup();
      rmSync(keyDir, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Rewrites the doubles' scenario and empties their state (call log, cluster counter);
   * `vos` is the VOSpace doubles' (VLS_DOUBLE_MODE, CADC_DOUBLE_REQUIRE_CERT, ...).
   */
  async configure(scenario: Record<string, string>, vos: Record<string, string> = {}): Promise<void> {
    const lines = Object.entries({ CANFAR_DOUBLE_STATE: DOUBLE_STATE, ...scenario }).map(([k, v]) => `${k}='${v}'\n`);
    await this.root.runOk(
      ["sh", "-c", `cat > /etc/canfar-double.conf && find "$1" -mindepth 1 -delete`, "configure", DOUBLE_STATE],
      { stdin: lines.join("") },
    );
    const vosLines = Object.entries({ VOS_DOUBLE_ROOT: VOSPACE, DOUBLES_LOG: VOS_LOG, ...vos }).map(([k, v]) => `${k}='${v}'\n`);
    await writeRootFile(this.root, "/etc/cadc-double.conf", vosLines.join(""));
  }

  /** The VOSpace doubles' calls, one line each ("vls vos:..."). */
  vosCalls(): string[] {
    try {
      return readFileSync(this.root.path(VOS_LOG), "utf8").split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  }

  /** The doubles' call log, one line per call (tool name first). */
  calls(): string[] {
    try {
      return readFileSync(this.root.path(`${DOUBLE_STATE}/calls.log`), "utf8").split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  }

  /** Every file the doubles wrote (call log, submitted descriptions), concatenated. */
  doubleFiles(): string {
    const dir = this.root.path(DOUBLE_STATE);
    return readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
  }

  /** Runs a command as the batch user over SSH (stdin optional), like remote.Command. */
  ssh(command: string, stdin?: string): Promise<ExecResult> {
    return sshRun(this.target, command, stdin);
  }

  /** Copies a local file to the batch host over SSH (scp), like remote.CopyToRemote. */
  async copy(localPath: string, remotePath: string): Promise<void> {
    const auth = sshAuthOptions(this.target);
    const r = await execCommand(
      [
        "scp", "-q", ...auth.options, "-P", String(this.target.port),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
        "-o", "LogLevel=ERROR",
        localPath, `${this.target.user}@127.0.0.1:${remotePath}`,
      ],
      { timeoutMs: 60_000, env: auth.env },
    );
    if (r.code !== 0) throw new Error(`scp ${localPath} -> ${remotePath} failed (${r.code}): ${r.stderr}\n${this.sshd.log()}`);
  }

  async cleanup(): Promise<void> {
    try {
      await this.sshd.stop();
    } finally {
      await this.root.cleanup();
      rmSync(this.keyDir, { recursive: true, force: true });
    }
  }
}
