import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { cachedRoot, mountOverlay, type RootHandle, type RootRecipe } from "./debian-root";
import { addSshUser, writeRootFile } from "./root-files";
import { makeSshKey } from "./ssh-key";
import { sshRun, startSshd, type SshdHandle, type SshTarget } from "./sshd";
import type { ExecResult } from "./exec";
import { DOUBLES_DIR } from "./doubles/doubles-dir";
import { WORKER_DIR } from "../provisioning/scripts";
import { cadcGetCertDouble } from "./cadc-get-cert-double";

/**
 * Debian 13 ships HTCondor (23.9); Debian 12 has none. The pipeline's tools come along so
 * jobs run do_catalogue.bash for real, and sshd so the program's commands arrive over SSH
 * as on CANFAR's batch host. Installed before caching, so the cache keeps them.
 */
export const HTCONDOR_RECIPE: RootRecipe = {
  suite: "trixie",
  include: ["openssh-server"],
  extraSetup:
    "set -e; apt-get update -q; apt-get install -y -q --no-install-recommends htcondor source-extractor libcfitsio-bin",
};

/** Where the job wrapper records each job: scratch dir | cwd | OMP_NUM_THREADS | X509_USER_PROXY | argv. */
export const SCRATCH_LOG = "/var/log/canfar-test/scratch.log";
/** The CADC archive stand-in: cadc:CFHT/ID.fits.fz is ARCHIVE/CFHT/ID.fits.fz. */
export const ARCHIVE = "/srv/archive";
/** The VOSpace stand-in: vos:USER/catalogues/ID.cat is VOSPACE/USER/catalogues/ID.cat. */
export const VOSPACE = "/srv/vospace";
/** The cadcget/vcp/vmv/vrm doubles, on the PATH of jobs only (the worker image has the real ones). */
const CADC_TOOLS = "/usr/local/lib/cadc-doubles";
const CANFAR_TOOLS = "/usr/local/lib/canfar-doubles";
const CADC_LOG = "/var/log/canfar-test/cadc.log";
/** Which certificate (sha256, or "none") each CADC call presented: "TOOL SHA". */
export const CADC_CERT_LOG = `${CADC_LOG}.certs`;
/**
 * The VOSpace calls made on the batch side (submit.sh, campaign.sh over SSH), apart from the
 * jobs': the doubles there read /etc/cadc-double.conf, SSH carrying no environment.
 */
export const SUBMIT_VOS_LOG = "/var/log/canfar-test/cadc-submit.log";
const VOS_CLIENT = ["vls", "vmkdir", "vcp", "vrm"];

// One host is the whole pool, on loopback only. No per-job mount namespaces or PID
// namespaces in a chroot. Short intervals so a test pool matches and runs within seconds.
// The one execute slot looks like a c2-7.5gb-30 worker (2 CPUs, about 7 GB as the VM's
// kernel sees it), partitionable as on CANFAR's workers, so the program's requests
// (request_cpus = 2, request_memory = 6528) must fit it as they must fit a real worker.
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
NEGOTIATOR_CYCLE_DELAY = 1
SCHEDD_INTERVAL = 5
STARTER_UPDATE_INTERVAL = 5
START = TRUE
SUSPEND = FALSE
PREEMPT = FALSE
KILL = FALSE
NUM_CPUS = 2
MEMORY = 7168
NUM_SLOTS = 1
NUM_SLOTS_TYPE_1 = 1
SLOT_TYPE_1 = 100%
SLOT_TYPE_1_PARTITIONABLE = TRUE
# CANFAR's csv2 workers advertise group_name, which csv2 canfar_submit's Requirements ask
# for; csv1 workers advertise VMType PROJECT:IMAGE (canfar_batch_init --image-name).
group_name = "canfar"
STARTD_ATTRS = $(STARTD_ATTRS) group_name VMType
# Test instrumentation and the worker image's tools: records where each job starts, puts
# the CADC doubles on its PATH, and points TMPDIR at nothing so a job that ignored
# _CONDOR_SCRATCH_DIR would fail instead of quietly using /tmp.
USER_JOB_WRAPPER = /usr/local/libexec/canfar-test/job-wrapper
# A job's x509userproxy is copied, not delegated: HTCondor 23 and 24 on OpenSSL 3 fail to
# delegate ("X509Credential::Request() failed", HTCONDOR-2904, fixed in 25.0) and then
# reschedule the job for ever. The self-hosted pool sets the same.
DELEGATE_JOB_GSI_CREDENTIALS = False
`;

const JOB_WRAPPER = `#!/bin/bash
printf '%s|%s|%s|%s|%s\\n' "\${_CONDOR_SCRATCH_DIR:-}" "\${PWD}" "\${OMP_NUM_THREADS:-}" "\${X509_USER_PROXY:-}" "$*" >> ${SCRATCH_LOG}
export TMPDIR=/nonexistent-tmpdir
# The pipeline still retries a failed download 3 times, only the pause between attempts
# shrinks from 30 s (doubling) to 1 s, so a missing exposure fails in seconds.
export CATALOGUE_RETRY_DELAY="\${CATALOGUE_RETRY_DELAY:-1}"
# CADC and VOSpace refuse a call without a valid certificate, as the real services do.
export PATH="${CADC_TOOLS}:\${PATH}" CADC_DOUBLE_ROOT=${ARCHIVE} VOS_DOUBLE_ROOT=${VOSPACE} DOUBLES_LOG=${CADC_LOG} CADC_DOUBLE_REQUIRE_CERT=1
exec "$@"
`;

const PREPARE = String.raw`set -eu
user="$1" log_dir="$2"
for d in /var/run/condor /var/lock/condor /var/log/condor /var/lib/condor/spool /var/lib/condor/execute; do
  mkdir -p "$d"; chown condor:condor "$d"
done
chmod 755 /var/lib/condor/execute
install -d -m 1777 "$log_dir"
install -d -m 755 "$3/CFHT" /usr/local/share/canfar-batch/pipeline
install -d -m 755 -o "$user" -g "$user" "$4/$user" "$4/$user/catalogues"
install -d -m 1777 /var/tmp/canfar-double
rm -rf /mnt/scratch
`;

const PIPELINE_DIR = WORKER_DIR;
const PIPELINE_CONFIG = ["catalogue.sex", "catalogue.param", "default.conv", "default.nnw", "merge-catalogues.awk"];
const PIPELINE_DOUBLES = resolve(__dirname, "cadc-doubles");

export interface PoolOptions {
  /** The submitting user, reached over SSH with a fresh key. */
  user: string;
  /** What the execute slot advertises as VMType, so csv1 jobs for that image match. */
  vmType?: string;
  /** The CADC login the certificate service stand-in accepts. */
  cadc: { user: string; password: string };
}

/**
 * A one-host HTCondor pool in a throwaway Debian 13 root that is also CANFAR's batch host:
 * the user's sshd on 127.0.0.1, canfar_submit (a double) in front of the real
 * condor_submit, and an execute slot whose jobs see CADC's archive and VOSpace as local
 * directories through the cadcget/vcp doubles. stop() is safe to call always.
 */
export class HtcondorPool {
  private master: ChildProcess | undefined;
  private readonly masterLog: string[] = [];
  private sshd: SshdHandle | undefined;
  private target: SshTarget | undefined;

  private constructor(
    readonly root: RootHandle,
    readonly user: string,
    private readonly keyDir: string,
  ) {}

  static async start(opts: PoolOptions): Promise<HtcondorPool> {
    const root = await mountOverlay(await cachedRoot(HTCONDOR_RECIPE));
    const pool = new HtcondorPool(root, opts.user, mkdtempSync(join(tmpdir(), "htcondor-pool-key-")));
    try {
      const key = await makeSshKey(pool.keyDir);
      await addSshUser(root, opts.user, key.publicKey);
      await root.runOk(["bash", "-c", PREPARE, "prepare", opts.user, dirname(SCRATCH_LOG), ARCHIVE, VOSPACE]);
      const vmType = opts.vmType === undefined ? "" : `VMType = "${opts.vmType}"\n`;
      await writeRootFile(root, "/etc/condor/config.d/99-canfar-test-pool.conf", POOL_CONFIG + vmType);
      await writeRootFile(root, "/usr/local/libexec/canfar-test/job-wrapper", JOB_WRAPPER, "755");
      // The build VM's provisioning installs the pipeline's configuration here.
      for (const f of PIPELINE_CONFIG) {
        await writeRootFile(root, `/usr/local/share/canfar-batch/pipeline/${f}`, readFileSync(join(PIPELINE_DIR, f), "utf8"));
      }
      for (const f of ["cadcget", "vcp", "vmv", "vrm", "vls", "vmkdir", "cadc-auth.sh", "transfer-cost.sh"]) {
        await writeRootFile(root, `${CADC_TOOLS}/${f}`, readFileSync(join(PIPELINE_DOUBLES, f), "utf8"), "755");
      }
      // The batch host's VOSpace client, for submit.sh's destination check and listing.
      for (const f of VOS_CLIENT) await root.runOk(["ln", "-sf", `${CADC_TOOLS}/${f}`, `/usr/local/bin/${f}`]);
      await writeRootFile(root, "/etc/cadc-double.conf", `VOS_DOUBLE_ROOT=${VOSPACE}\nDOUBLES_LOG=${SUBMIT_VOS_LOG}\nCADC_DOUBLE_REQUIRE_CERT=1\n`);
      // CADC's certificate service for the batch side's certificate step.
      await writeRootFile(root, "/usr/local/bin/cadc-get-cert", cadcGetCertDouble(opts.cadc), "755");
      // canfar_submit in front of the real condor_submit, as on CANFAR's batch host.
      for (const f of ["canfar_submit", "canfar-double-conf.sh"]) {
        await writeRootFile(root, `${CANFAR_TOOLS}/${f}`, readFileSync(join(DOUBLES_DIR, f), "utf8"), "755");
      }
      await root.runOk(["ln", "-sf", `${CANFAR_TOOLS}/canfar_submit`, "/usr/local/bin/canfar_submit"]);
      await pool.configureSubmit("csv2");
      pool.master = root.spawn(["/usr/sbin/condor_master", "-f"]);
      pool.master.stdout?.on("data", (b: Buffer) => pool.masterLog.push(b.toString("utf8")));
      pool.master.stderr?.on("data", (b: Buffer) => pool.masterLog.push(b.toString("utf8")));
      pool.sshd = await startSshd(root);
      pool.target = { port: pool.sshd.port, user: opts.user, keyPath: key.privateKeyPath };
      await pool.waitReady(120_000);
      return pool;
    } catch (e) {
      await pool.stop();
      throw e;
    }
  }

  /** Runs a command as the pool's user over real SSH (stdin optional), like remote.Command. */
  ssh(command: string, stdin?: string): Promise<ExecResult> {
    if (this.target === undefined) throw new Error("the pool's sshd is not running");
    return sshRun(this.target, command, stdin);
  }

  /** Rewrites canfar_submit's scenario: which version it behaves like, which images csv1 finds. */
  configureSubmit(version: "csv1" | "csv2", images: readonly string[] = []): Promise<void> {
    const scenario = [
      `CANFAR_SUBMIT_VERSION=${version}`,
      "CANFAR_DOUBLE_STATE=/var/tmp/canfar-double",
      "CANFAR_DOUBLE_CONDOR_SUBMIT=/usr/bin/condor_submit",
      `CANFAR_DOUBLE_IMAGES='${images.join(" ")}'`,
    ];
    return writeRootFile(this.root, "/etc/canfar-double.conf", `${scenario.join("\n")}\n`);
  }

  /** One record per job start, in the order the jobs started. */
  jobStarts(): Array<{ scratch: string; cwd: string; threads: string; proxy: string; args: string }> {
    let text = "";
    try {
      text = readFileSync(this.root.path(SCRATCH_LOG), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const [scratch = "", cwd = "", threads = "", proxy = "", args = ""] = l.split("|");
        return { scratch, cwd, threads, proxy, args };
      });
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

  /** sshd and `condor_off -master` by pid, then any process left in the root, then unmounts. */
  async stop(): Promise<void> {
    try {
      await this.sshd?.stop();
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
      rmSync(this.keyDir, { recursive: true, force: true });
    }
  }
}
