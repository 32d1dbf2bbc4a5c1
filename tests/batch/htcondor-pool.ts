import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { cachedRoot, mountOverlay, type RootHandle, type RootRecipe } from "../support/debian-root";
import { DOUBLES_DIR } from "../doubles/doubles-dir";

/**
 * Debian 13 ships HTCondor (23.9); Debian 12 has none. The pipeline's tools come along so
 * jobs can run do_catalogue.bash for real. Installed in extraSetup, so the cache keeps them.
 */
export const HTCONDOR_RECIPE: RootRecipe = {
  suite: "trixie",
  include: [],
  extraSetup:
    "set -e; apt-get update -q; apt-get install -y -q --no-install-recommends htcondor source-extractor libcfitsio-bin",
};

/** Where the pool's job wrapper records each job's scratch dir, cwd and arguments. */
export const SCRATCH_LOG = "/var/log/canfar-test/scratch.log";

// One host is the whole pool, on loopback only. No per-job mount namespaces or PID
// namespaces in a chroot. Short intervals so a test pool matches and runs within seconds.
const POOL_CONFIG = `# canfar-batch test pool: central manager, submit and execute on 127.0.0.1 only.
NETWORK_INTERFACE = 127.0.0.1
CONDOR_HOST = 127.0.0.1
BIND_ALL_INTERFACES = false
ENABLE_IPV6 = false
use ROLE : CentralManager
use ROLE : Submit
use ROLE : Execute
MOUNT_UNDER_SCRATCH =
USE_PID_NAMESPACES = false
UPDATE_INTERVAL = 5
NEGOTIATOR_INTERVAL = 2
NEGOTIATOR_MIN_INTERVAL = 1
SCHEDD_INTERVAL = 5
STARTER_UPDATE_INTERVAL = 5
START = TRUE
SUSPEND = FALSE
PREEMPT = FALSE
KILL = FALSE
# CANFAR's workers advertise group_name, which csv2 canfar_submit's Requirements ask for.
group_name = "canfar"
STARTD_ATTRS = $(STARTD_ATTRS) group_name
# Test instrumentation only: records where each job starts, and points TMPDIR at nothing
# so a job that ignored _CONDOR_SCRATCH_DIR would fail instead of quietly using /tmp.
USER_JOB_WRAPPER = /usr/local/libexec/canfar-test/record-scratch
`;

const RECORD_SCRATCH = `#!/bin/bash
printf '%s|%s|%s\\n' "\${_CONDOR_SCRATCH_DIR:-}" "\${PWD}" "$*" >> ${SCRATCH_LOG}
export TMPDIR=/nonexistent-tmpdir
exec "$@"
`;

const PREPARE = String.raw`set -eu
for d in /var/run/condor /var/lock/condor /var/log/condor /var/lib/condor/spool /var/lib/condor/execute; do
  mkdir -p "$d"; chown condor:condor "$d"
done
chmod 755 /var/lib/condor/execute
mkdir -p /usr/local/libexec/canfar-test "$(dirname "$1")"
chmod 1777 "$(dirname "$1")"
useradd -m -s /bin/bash "$2"
mkdir -p /srv/exposures /srv/catalogues /usr/local/share/canfar-batch/pipeline /usr/local/lib/canfar-doubles
chown "$2:$2" /srv/catalogues
rm -rf /mnt/scratch
`;

const PIPELINE_DIR = resolve(__dirname, "../../provisioning/pipeline");
const PIPELINE_CONFIG = ["catalogue.sex", "catalogue.param", "default.conv", "merge-catalogues.awk"];

/** A one-host HTCondor pool in a throwaway Debian 13 root; stop() is safe to call always. */
export class HtcondorPool {
  private constructor(
    readonly root: RootHandle,
    private master: ChildProcess | undefined,
    private masterLog: string[],
  ) {}

  static async start(user: string): Promise<HtcondorPool> {
    const root = await mountOverlay(await cachedRoot(HTCONDOR_RECIPE));
    const pool = new HtcondorPool(root, undefined, []);
    try {
      await root.runOk(["bash", "-c", PREPARE, "prepare", SCRATCH_LOG, user]);
      await writeFile(root, "/etc/condor/config.d/99-canfar-test-pool.conf", POOL_CONFIG, "644");
      await writeFile(root, "/usr/local/libexec/canfar-test/record-scratch", RECORD_SCRATCH, "755");
      // The build VM's provisioning installs the pipeline's configuration here.
      for (const f of PIPELINE_CONFIG) {
        await writeFile(root, `/usr/local/share/canfar-batch/pipeline/${f}`, readFileSync(join(PIPELINE_DIR, f), "utf8"), "644");
      }
      // canfar_submit (csv2) in front of the real condor_submit, as on CANFAR's batch host.
      for (const f of ["canfar_submit", "canfar-double-conf.sh"]) {
        await writeFile(root, `/usr/local/lib/canfar-doubles/${f}`, readFileSync(join(DOUBLES_DIR, f), "utf8"), "755");
      }
      await root.runOk(["ln", "-sf", "/usr/local/lib/canfar-doubles/canfar_submit", "/usr/local/bin/canfar_submit"]);
      await writeFile(root, "/etc/canfar-double.conf", "CANFAR_SUBMIT_VERSION=csv2\nCANFAR_DOUBLE_STATE=/tmp/canfar-double\n", "644");
      pool.master = root.spawn(["/usr/sbin/condor_master", "-f"]);
      pool.master.stdout?.on("data", (b: Buffer) => pool.masterLog.push(b.toString("utf8")));
      pool.master.stderr?.on("data", (b: Buffer) => pool.masterLog.push(b.toString("utf8")));
      await pool.waitReady(120_000);
      return pool;
    } catch (e) {
      await pool.stop();
      throw e;
    }
  }

  /** Waits until the collector lists a slot and the schedd answers. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (this.master?.exitCode !== null && this.master?.exitCode !== undefined) {
        throw new Error(`condor_master exited ${this.master.exitCode}: ${this.masterLog.join("")}`);
      }
      const slots = await this.root.run(["condor_status", "-af", "Name"], { timeoutMs: 20_000 });
      const schedd = await this.root.run(["condor_q", "-totals"], { timeoutMs: 20_000 });
      if (slots.code === 0 && slots.stdout.trim() !== "" && schedd.code === 0) return;
      last = `${slots.stdout}${slots.stderr}${schedd.stderr}`;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const logs = await this.root.run("tail -n 20 /var/log/condor/MasterLog /var/log/condor/CollectorLog /var/log/condor/StartLog 2>&1");
    throw new Error(`HTCondor pool not ready after ${timeoutMs} ms: ${last}\n${logs.stdout}`);
  }

  /** `condor_off -master`, then ends any daemon still running by its pid, then unmounts. */
  async stop(): Promise<void> {
    try {
      const pid = this.master?.pid;
      if (this.master !== undefined && pid !== undefined && this.master.exitCode === null && this.master.signalCode === null) {
        const exited = new Promise<void>((r) => this.master?.once("exit", () => r()));
        await this.root.run(["condor_off", "-master"], { timeoutMs: 30_000 });
        const timer = new Promise<void>((r) => setTimeout(r, 20_000));
        await Promise.race([exited, timer]);
      }
    } finally {
      // killMembers (inside cleanup) signals every process left in the root's namespace by
      // pid: daemons or jobs that outlived condor_off.
      await this.root.cleanup();
    }
  }
}

async function writeFile(root: RootHandle, path: string, content: string, mode: string): Promise<void> {
  await root.runOk(["sh", "-c", 'cat > "$1" && chmod "$2" "$1"', "write", path, mode], { stdin: content });
}
