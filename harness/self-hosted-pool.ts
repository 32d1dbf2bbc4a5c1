import { PIPELINE_PARTS } from "../domain/pipeline-parts";
import type { ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import type { PoolRole } from "../pool/user-data";
import { evaluate } from "../offline/evaluate";
import { inPlaceCommand, SCRIPTS, WORKER_DIR } from "../provisioning/scripts";
import type { StackConfig } from "../offline/stack-file";
import { declaredBatch, type DeclaredBatch } from "./declared-batch";
import { declaredCommand, type DeclaredCommand } from "./declared-command";
import { runCloudInitStages, seedNoCloud } from "./cloud-init";
import { cachedRoot, mountOverlay, type RootHandle, type RootRecipe } from "./debian-root";
import type { ExecResult } from "./exec";
import { addDefaultUser } from "./default-user";
import { writeRootFile } from "./root-files";
import { startSshd, type SshdHandle } from "./sshd";

/**
 * What a worker image made with `htcondor: true` holds, on Debian 13 (the one Debian with
 * HTCondor in main): the pipeline's tools, HTCondor, cloud-init and sshd. locales: cloud-init's
 * locale module sets en_US.UTF-8 and fails where it is not generated (as BUILD_VM_RECIPE).
 */
export const POOL_NODE_RECIPE: RootRecipe = {
  suite: "trixie",
  // sudo: the image's default user runs the drain as root with it (cloud images have it).
  include: ["openssh-server", "sudo", "cloud-init", "locales"],
  extraSetup:
    "set -e; sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen && locale-gen; apt-get install -y -q --no-install-recommends htcondor source-extractor libcfitsio-bin",
};

/** The project network of the test pool: loopback addresses only, none added to any interface. */
export const POOL_NETWORK = "127.0.10.0/24";
/**
 * The fixed IP the offline mocks give each of the program's ports (by resource name), so the
 * program declares the pool on the test's network: the submit node's port, then the
 * workers'. pool-workers-2-port is the impostor's, from an evaluation with three workers.
 */
export const POOL_PORTS: Readonly<Record<string, string>> = {
  "pool-submit-access-port": "127.0.10.1",
  "pool-workers-0-port": "127.0.10.2",
  "pool-workers-1-port": "127.0.10.3",
  "pool-workers-2-port": "127.0.10.4",
};
/** One host directory shared by every root (bind-mounted): CADC's archive, VOSpace, the logs. */
export const SHARED = "/srv/canfar-test";
export const ARCHIVE = `${SHARED}/archive`;
export const VOSPACE = `${SHARED}/vospace`;
/** The CADC doubles' call log ("vcp ARGS", "vmv ARGS" ...), written by every worker. */
export const CADC_LOG = `${SHARED}/log/cadc.log`;
/** The VOSpace calls of submit.sh and campaign.sh on the submit node, apart from the jobs'. */
export const SUBMIT_VOS_LOG = `${SHARED}/log/cadc-submit.log`;
/** One line per job start: "HOSTNAME ID". */
export const STARTS_LOG = `${SHARED}/log/starts.log`;
/** A job whose ID has a file here waits at its start until the file goes (bounded). */
export const GATES = `${SHARED}/gates`;

const CADC_TOOLS = "/usr/local/lib/cadc-doubles";
const PIPELINE_DIR = WORKER_DIR;
// What install-pipeline.sh leaves in the image: the configuration and the pipeline's parts,
// so a job whose submission sent only do_catalogue.bash finds them installed.
const PIPELINE_CONFIG = ["catalogue.sex", "catalogue.param", "default.conv", "default.nnw", "merge-catalogues.awk", ...PIPELINE_PARTS];
const PIPELINE_DOUBLES = resolve(__dirname, "cadc-doubles");

// Test instrumentation, on the workers only: records which host starts which job, holds a
// job at its start while its gate exists (so a test can act while it runs), and puts the
// CADC doubles on the job's PATH (the image has the real clients).
const JOB_WRAPPER = `#!/bin/bash
id="\${*: -1}"
printf '%s %s\\n' "$(hostname)" "\${id}" >> ${STARTS_LOG}
for _ in $(seq 600); do [ -e "${GATES}/\${id}" ] || break; sleep 0.5; done
export CATALOGUE_RETRY_DELAY=1
export PATH="${CADC_TOOLS}:\${PATH}" CADC_DOUBLE_ROOT=${ARCHIVE} VOS_DOUBLE_ROOT=${VOSPACE} DOUBLES_LOG=${CADC_LOG} CADC_DOUBLE_REQUIRE_CERT=1
exec "$@"
`;

// systemd-tmpfiles makes these on a VM (the package's tmpfiles.d); a chroot has no systemd.
const PREPARE = String.raw`set -eu
for d in /var/run/condor /var/lock/condor /var/log/condor /var/lib/condor/spool /var/lib/condor/execute; do
  mkdir -p "$d"; chown condor:condor "$d"
done
chmod 755 /var/lib/condor/execute
install -d -m 755 /usr/local/share/canfar-batch/pipeline
rm -rf /mnt/scratch
`;

/** The test-only HTCondor settings of a node: what a chroot on loopback needs, and short intervals. */
function testConfig(role: PoolRole, address: string): string {
  return [
    "# Test only (harness/self-hosted-pool.ts), beside the configuration the program's",
    "# user-data wrote: what separate VMs never need, and intervals a test can wait for.",
    "# The rendered configuration binds the one address HTCondor picks, which on this machine",
    "# would be the machine's own: each root uses its own loopback address instead.",
    `NETWORK_INTERFACE = ${address}`,
    "# All roots share the machine's network namespace, where every 127.x address is local: the",
    "# daemons would take each other for their own family (same host) and present a family",
    "# session the other root never made. Separate VMs never look local to each other.",
    "SEC_USE_FAMILY_SESSION = False",
    "# A chroot cannot give each job a mount or PID namespace of its own.",
    "MOUNT_UNDER_SCRATCH =",
    "USE_PID_NAMESPACES = false",
    "# Seconds instead of minutes, so the pool forms and matches within a test.",
    "UPDATE_INTERVAL = 5",
    "NEGOTIATOR_INTERVAL = 2",
    "NEGOTIATOR_MIN_INTERVAL = 1",
    "NEGOTIATOR_CYCLE_DELAY = 1",
    "SCHEDD_INTERVAL = 5",
    "STARTER_UPDATE_INTERVAL = 5",
    ...(role === "submit"
      ? ["# A worker that vanished gives its job back after 20 s, not 40 min.", "JOB_DEFAULT_LEASE_DURATION = 20"]
      : [
          "# The test's instrumentation (JOB_WRAPPER above): the CADC doubles, the start log, the gates.",
          `USER_JOB_WRAPPER = /usr/local/libexec/canfar-test/job-wrapper`,
        ]),
    "",
  ].join("\n");
}

/** One server the program declares for the pool, as its root takes it. */
export interface NodeSpec {
  role: PoolRole;
  /** The `hostname` of its user-data: `<prefix>-submit`, `<prefix>-worker-<i>`. */
  hostname: string;
  /** The fixed IP of the port its Instance is declared on (a 127.0.10.x of POOL_PORTS). */
  address: string;
  /** The Instance's userData input, byte for byte. */
  userData: string;
}

/** What the program declares for a self-hosted stack, as the pool test replays it. */
export interface DeclaredPool {
  submit: NodeSpec;
  workers: NodeSpec[];
  batch: DeclaredBatch;
  /** How every command reaches the submit node: the login and the host key it pins. */
  connection: { host: string; user: string; hostKey: string };
  /** The workers' drain commands (their `delete` drains) and the step that puts the script there. */
  stageDrain: DeclaredCommand;
  drains: DeclaredCommand[];
}

/**
 * Evaluates the program offline for a self-hosted stack with the mocks answering the pool's
 * ports on POOL_PORTS and the subnet as POOL_NETWORK, secrets as they are (this test replays
 * them; nothing of it is printed), and the given host key where the program generates one.
 */
export async function declaredPool(stack: StackConfig, hostKey: string): Promise<DeclaredPool> {
  const e = await evaluate("canfar-batch", "self-hosted", stack, {
    revealSecrets: true,
    localStdout: (_name, create) => (create === inPlaceCommand(SCRIPTS.generateHostKey) ? hostKey : undefined),
    network: { subnetCidr: POOL_NETWORK, fixedIp: (port) => POOL_PORTS[port] },
  });
  const node = (role: PoolRole, r: (typeof e.resources)[number]): NodeSpec => {
    const inputs = r.inputs as { name?: unknown; userData?: unknown; networks?: Array<{ port?: unknown }> };
    const port = inputs.networks?.[0]?.port;
    const address = typeof port === "string" ? POOL_PORTS[port.replace(/-id$/, "")] : undefined;
    if (typeof inputs.userData !== "string" || address === undefined) throw new Error(`${r.name}: no user-data, or a port outside POOL_PORTS (${String(port)})`);
    const hostname = (parse(inputs.userData) as { hostname?: unknown }).hostname;
    if (typeof hostname !== "string" || hostname !== inputs.name) throw new Error(`${r.name}: user-data hostname ${String(hostname)} is not the server name ${String(inputs.name)}`);
    return { role, hostname, address, userData: inputs.userData };
  };
  const servers = e.resources.filter((r) => r.type === "openstack:compute/instance:Instance" && r.name.startsWith("pool-"));
  const submit = servers.filter((r) => r.name === "pool-submit-server").map((r) => node("submit", r));
  // In the program's order (worker-0, worker-1 ...), whatever order the engine recorded.
  const workers = servers.filter((r) => /^pool-workers-\d+-server$/.test(r.name)).sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true })).map((r) => node("worker", r));
  if (submit[0] === undefined) throw new Error("the program declared no submit node");
  const submitInputs = e.resources.find((r) => r.name === "batch-submit")?.inputs as { connection?: { host?: unknown; user?: unknown; hostKey?: unknown } } | undefined;
  const c = submitInputs?.connection;
  if (typeof c?.host !== "string" || typeof c.user !== "string" || typeof c.hostKey !== "string") throw new Error("batch-submit declares no connection");
  const drains = e.resources.filter((r) => /^pool-workers-\d+-drain$/.test(r.name)).sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true })).map((r) => declaredCommand(e, r.name));
  return { submit: submit[0], workers, batch: declaredBatch(e), connection: { host: c.host, user: c.user, hostKey: c.hostKey }, stageDrain: declaredCommand(e, "pool-workers-stage-drain"), drains };
}

/**
 * One pool member: an overlay on the cached node root, in a mount namespace and a UTS
 * namespace of its own (cloud-init sets the host name there, never the machine's), with
 * HTCondor's condor_master started as condor.service does (`condor_master -f`), tracked by pid.
 */
export class PoolNode {
  master: ChildProcess | undefined;
  readonly masterLog: string[] = [];
  cloudInit: ExecResult | undefined;

  private constructor(
    readonly spec: NodeSpec,
    readonly root: RootHandle,
    /** A process holding the root's UTS namespace; every command of the node joins it. */
    private readonly uts: ChildProcess,
  ) {}

  get hostname(): string {
    return this.spec.hostname;
  }

  /** The prefix that puts a command (run as root inside the chroot) into the node's UTS namespace. */
  private get inUts(): string[] {
    return ["nsenter", "-t", String(this.uts.pid), "-u", "--"];
  }

  private sshd: SshdHandle | undefined;

  static async start(spec: NodeSpec, opts: { base: string; shared: string; user: string; login: { user: string; publicKey: string } }): Promise<PoolNode> {
    const root = await mountOverlay(opts.base);
    let node: PoolNode | undefined;
    try {
      // The namespace holder: ends with the root (cleanup kills every process in it).
      const uts = root.spawn(["unshare", "--uts", "--", "sh", "-c", "hostname unset-pool-node && exec sleep infinity"]);
      node = new PoolNode(spec, root, uts);
      await waitFor(async () => (await root.run(["nsenter", "-t", String(uts.pid), "-u", "--", "hostname"])).stdout.trim() === "unset-pool-node", 10_000, "UTS namespace");
      // In the root's own mount namespace: the bind never exists on the host.
      await root.runOk(["mkdir", "-p", SHARED]);
      await root.ns.execOk(["mount", "--bind", opts.shared, `${root.dir}${SHARED}`]);
      await root.runOk(["bash", "-c", PREPARE]);
      // The image has the CADC user (create-user.sh on the build VM): the same name and uid
      // on every node, so jobs run as their submitter on the workers (UID_DOMAIN).
      await root.runOk(["useradd", "-m", "-u", "2001", "-s", "/bin/bash", opts.user]);
      // The image's default user, whom the program's commands log in as: on a VM cloud-init
      // makes it at first boot (one uid on every node of one image) and Nova gives it the
      // stack's key pair. The test makes it here, with the test's key, before cloud-init.
      await root.runOk(["useradd", "-m", "-u", "2002", "-s", "/bin/bash", opts.login.user]);
      await addDefaultUser(root, opts.login.user, opts.login.publicKey);
      // Every node boots from the worker image: the submit node has the pipeline and the
      // VOSpace client too (submit.sh checks and lists the destination with it).
      await node.installPipeline();
      await writeRootFile(root, "/etc/condor/config.d/99-canfar-test.conf", testConfig(spec.role, spec.address));
      await seedNoCloud(root, spec.userData, `pool-${spec.hostname}`);
      node.cloudInit = await runCloudInitStages(root, 300_000, node.inUts);
      if (node.cloudInit.code !== 0) {
        const status = await node.run("cloud-init status --long; tail -n 30 /var/log/cloud-init.log");
        throw new Error(`cloud-init failed on ${spec.hostname} (${node.cloudInit.code}):\n${node.cloudInit.stderr}\n${status.stdout}`);
      }
      node.master = root.spawn([...node.inUts, "/usr/sbin/condor_master", "-f"]);
      node.master.stdout?.on("data", (b: Buffer) => node?.masterLog.push(b.toString("utf8")));
      node.master.stderr?.on("data", (b: Buffer) => node?.masterLog.push(b.toString("utf8")));
      return node;
    } catch (e) {
      await root.cleanup();
      throw e;
    }
  }

  /** The node's sshd (in its UTS namespace), as the image starts it; its port on 127.0.0.1. */
  async startSshd(): Promise<SshdHandle> {
    this.sshd = await startSshd(this.root, { wrap: this.inUts });
    return this.sshd;
  }

  private async installPipeline(): Promise<void> {
    for (const f of PIPELINE_CONFIG) {
      await writeRootFile(this.root, `/usr/local/share/canfar-batch/pipeline/${f}`, readFileSync(join(PIPELINE_DIR, f), "utf8"));
    }
    for (const f of ["cadcget", "vcp", "vmv", "vrm", "vls", "vmkdir", "cadc-auth.sh", "transfer-cost.sh"]) {
      await writeRootFile(this.root, `${CADC_TOOLS}/${f}`, readFileSync(join(PIPELINE_DOUBLES, f), "utf8"), "755");
    }
    // The VOSpace client for submit.sh's destination check and listing over SSH (which
    // carries no environment: the doubles read /etc/cadc-double.conf), logged apart from the jobs'.
    for (const f of ["vls", "vmkdir", "vcp", "vrm"]) await this.root.runOk(["ln", "-sf", `${CADC_TOOLS}/${f}`, `/usr/local/bin/${f}`]);
    await writeRootFile(this.root, "/etc/cadc-double.conf", `VOS_DOUBLE_ROOT=${VOSPACE}\nDOUBLES_LOG=${SUBMIT_VOS_LOG}\nCADC_DOUBLE_REQUIRE_CERT=1\n`);
    await writeRootFile(this.root, "/usr/local/libexec/canfar-test/job-wrapper", JOB_WRAPPER, "755");
  }

  /** Runs a bash script or argv in the node (its chroot and UTS namespace) as root, or as `user`. */
  run(cmd: string | readonly string[], opts: { user?: string; stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const inner = typeof cmd === "string" ? ["bash", "-c", cmd] : [...cmd];
    // runuser after nsenter: joining a namespace needs root.
    const argv = opts.user === undefined ? [...this.inUts, ...inner] : [...this.inUts, "/usr/sbin/runuser", "-u", opts.user, "--", ...inner];
    return this.root.run(argv, { stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 60_000, cwd: opts.user === undefined ? "/" : `/home/${opts.user}` });
  }

  async runOk(cmd: string | readonly string[], opts: { user?: string; stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const r = await this.run(cmd, opts);
    if (r.code !== 0) throw new Error(`${this.hostname}: ${JSON.stringify(cmd)} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r;
  }

  /** The machine's view of what HTCondor logged (CollectorLog, StartLog ...). */
  log(name: string): string {
    try {
      return readFileSync(this.root.path(`/var/log/condor/${name}`), "utf8");
    } catch {
      return "";
    }
  }

  /** As the cloud kills a server: SIGKILL to every process of the node, by pid, at once. */
  kill(): number[] {
    const pids = this.root.ns.members();
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    return pids;
  }

  /** `condor_off -master`, then ends by pid whatever is left in the root, then unmounts. Safe to call always. */
  async stop(): Promise<void> {
    try {
      await this.sshd?.stop();
      const m = this.master;
      if (m !== undefined && m.exitCode === null && m.signalCode === null) {
        const exited = new Promise<void>((r) => m.once("exit", () => r()));
        await this.run(["condor_off", "-master"], { timeoutMs: 20_000 });
        await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 15_000))]);
      }
    } finally {
      await this.root.cleanup();
    }
  }
}

/**
 * The shared stand-ins: one host directory (archive, VOSpace, logs, gates) every root binds
 * at SHARED, so a catalogue stored from either worker lands in the one VOSpace.
 */
export function makeSharedDir(user: string): string {
  const dir = mkdtempSync(join(tmpdir(), "self-hosted-pool-shared-"));
  for (const d of ["archive/CFHT", `vospace/${user}/catalogues`, "log", "gates"]) mkdirSync(join(dir, d), { recursive: true });
  // Written by jobs running as the user on the workers: the uid the roots give the user.
  for (const d of ["", "archive", "archive/CFHT", "vospace", `vospace/${user}`, `vospace/${user}/catalogues`, "log", "gates"]) chmodSync(join(dir, d), 0o1777);
  return dir;
}

export async function removeSharedDir(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
}

export function nodeBase(): Promise<string> {
  return cachedRoot(POOL_NODE_RECIPE);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
