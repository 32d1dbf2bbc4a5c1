import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedRoot, mountOverlay, rootCacheDir, type RootHandle } from "../../harness/debian-root";
import { execCommand, type ExecResult } from "../../harness/exec";
import { withFileLock } from "../../harness/file-lock";
import {
  CLOUD_SETUP,
  CLOUDS_YAML,
  CONFIG_FILES,
  CREATE_DATABASES,
  DB_SYNCS,
  HAS_HYPERVISOR,
  HOST,
  IDENTITY_SETUP,
  KEYSTONE_INIT,
  VXLAN_LOCAL_IP,
  WAIT_SERVICES,
} from "./openstack-config";
import { OPENSTACK_RECIPE } from "./openstack-recipe";

/*
 * A minimal real OpenStack Zed (Debian 12's packages) for tests, design §5:
 *
 *   const cloud = await OpenStackCloud.start();   // ~1 min from cache; cold ~10 min
 *   try {
 *     const r = await cloud.openstack(["server", "list", "-f", "json"]);
 *   } finally {
 *     await cloud.stop();                           // by pid, unmount, delete the netns
 *   }
 *
 * Two cache layers under rootCacheDir(): the package root (cachedRoot(OPENSTACK_RECIPE)),
 * and on top of it the initialised layer (databases synced, Keystone bootstrapped, users,
 * endpoints, flavors, networks, image), kept as an overlay upper dir and stacked as a
 * second lower dir at start. Every daemon runs chrooted in the overlay, inside a network
 * namespace the fixture creates, with only lo and two veth pairs (both ends inside).
 */

// Bump when the init steps change in a way the hashed texts below do not show.
const INIT_VERSION = 1;
const INIT_COMPLETE = ".canfar-openstack-init-complete";
const LOG_DIR = "/var/log/canfar-os";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CLOUDS_IN_ROOT = "/etc/openstack/clouds.yaml";

export interface OpenStackOptions {
  /** Progress lines with timings go here; stderr when unset. */
  log?: (line: string) => void;
}

interface Daemon {
  name: string;
  child: ChildProcess;
}

/** The daemons in start order; each one's stdout and stderr go to LOG_DIR/<name>.log. */
const DAEMONS: ReadonlyArray<{ name: string; argv: string[] }> = [
  {
    name: "mariadb",
    argv: [
      "/usr/sbin/mariadbd", "--user=mysql", "--bind-address=127.0.0.1", "--port=3306", "--socket=/run/mysqld/mysqld.sock",
      "--skip-name-resolve", "--skip-log-bin", "--innodb-use-native-aio=0", "--innodb-flush-log-at-trx-commit=0",
      "--innodb-buffer-pool-size=128M", "--innodb-log-file-size=32M", "--max-connections=600", "--performance-schema=0",
    ],
  },
  { name: "rabbitmq", argv: ["/usr/lib/rabbitmq/bin/rabbitmq-server"] },
];

const uwsgi = (port: number, script: string) => [
  "uwsgi", "--plugin", "python3", "--http-socket", `127.0.0.1:${port}`, "--wsgi-file", script, "--master",
  "--processes", "1", "--threads", "1", "--die-on-term", "--add-header", "Connection: close", "--buffer-size", "65535",
];

const OPENSTACK_DAEMONS: ReadonlyArray<{ name: string; argv: string[] }> = [
  { name: "keystone", argv: uwsgi(5000, "/usr/bin/keystone-wsgi-public") },
  { name: "placement", argv: uwsgi(8778, "/usr/bin/placement-api") },
  { name: "glance", argv: ["glance-api", "--config-file", "/etc/glance/glance-api.conf"] },
  { name: "nova-api", argv: ["nova-api", "--config-file", "/etc/nova/nova.conf"] },
  { name: "nova-conductor", argv: ["nova-conductor", "--config-file", "/etc/nova/nova.conf"] },
  { name: "nova-scheduler", argv: ["nova-scheduler", "--config-file", "/etc/nova/nova.conf"] },
  { name: "neutron-server", argv: ["neutron-server", "--config-file", "/etc/neutron/neutron.conf"] },
  { name: "neutron-linuxbridge-agent", argv: ["neutron-linuxbridge-agent", "--config-file", "/etc/neutron/neutron.conf"] },
  // The nova-compute package pulls a hypervisor; python3-nova has the command all the same.
  { name: "nova-compute", argv: ["python3", "-c", "from nova.cmd.compute import main; main()", "--config-file", "/etc/nova/nova.conf"] },
];

const HTTP_CHECKS: ReadonlyArray<[string, string]> = [
  ["keystone", "http://127.0.0.1:5000/v3"],
  ["placement", "http://127.0.0.1:8778/"],
  ["glance", "http://127.0.0.1:9292/"],
  ["nova-api", "http://127.0.0.1:8774/"],
  ["neutron-server", "http://127.0.0.1:9696/"],
];

/** The initialised layer's cache entry: named by what went into it. */
function initLayerPath(base: string): string {
  const h = createHash("sha256")
    .update(JSON.stringify({ INIT_VERSION, base, CONFIG_FILES, CREATE_DATABASES, KEYSTONE_INIT, DB_SYNCS, IDENTITY_SETUP, CLOUD_SETUP, DAEMONS, OPENSTACK_DAEMONS }))
    .digest("hex")
    .slice(0, 16);
  return join(rootCacheDir(), `openstack-init-${h}`);
}

// Network namespaces still to delete if this process exits without stop().
const liveNetns = new Set<string>();
// clouds.yaml dirs still to remove then.
const liveConfigDirs = new Set<string>();
let exitHook = false;
function deleteNetnsNow(name: string): void {
  try {
    execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
  } catch {
    // Already gone.
  }
  liveNetns.delete(name);
}
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  const deleteAll = () => {
    for (const n of [...liveNetns]) deleteNetnsNow(n);
    for (const d of liveConfigDirs) rmSync(d, { recursive: true, force: true });
    liveConfigDirs.clear();
  };
  process.on("exit", deleteAll);
  // live-roots.ts ends the root's processes and re-raises the signal; the namespaces go too.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      deleteAll();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/**
 * Deletes the network namespaces of fixture processes that were killed outright (their
 * pid is in the name). Only empty ones: a namespace still holding a process is left.
 */
function pruneOrphanNetns(log: (m: string) => void): void {
  let names: string[] = [];
  try {
    names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0] ?? "");
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^canfar-os-([0-9]+)-[a-z0-9]+$/.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    const pids = execFileSync("ip", ["netns", "pids", name], { encoding: "utf8" }).trim();
    if (pids !== "") {
      log(`[openstack] orphaned netns ${name} still holds pids ${pids.replace(/\n/g, " ")}: left alone`);
      continue;
    }
    log(`[openstack] deleting orphaned netns ${name}`);
    deleteNetnsNow(name);
  }
}

// Initialised layers of old recipes or configs go after this long unused (like old roots).
const LAYER_UNUSED_MS = 14 * 24 * 3600 * 1000;
function markLayerUsed(layer: string): void {
  const used = `${layer}.used`;
  const now = new Date();
  if (existsSync(used)) utimesSync(used, now, now);
  else writeFileSync(used, "");
}
function pruneOldLayers(current: string, log: (m: string) => void): void {
  const dir = rootCacheDir();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!/^openstack-init-[0-9a-f]+$/.test(name) || path === current) continue;
    const stamp = existsSync(`${path}.used`) ? `${path}.used` : path;
    if (Date.now() - statSync(stamp).mtimeMs < LAYER_UNUSED_MS) continue;
    log(`[openstack] removing ${name}: unused for 14 days`);
    rmSync(path, { recursive: true, force: true });
    rmSync(`${path}.used`, { force: true });
    rmSync(`${path}.lock`, { force: true });
  }
}

export class OpenStackCloud {
  private readonly daemons: Daemon[] = [];
  private readonly started = Date.now();
  /** Host-side directory holding clouds.yaml (its entries: arbutus-canfar, arbutus-canfar-admin). */
  readonly configDir: string;

  private constructor(
    readonly root: RootHandle,
    readonly netns: string,
    private readonly log: (line: string) => void,
  ) {
    this.configDir = mkdtempSync(join(tmpdir(), "canfar-os-clouds-"));
    liveConfigDirs.add(this.configDir);
  }

  /** Path of the clouds.yaml written for this cloud (host side; the root has the same at /etc/openstack). */
  get cloudsYaml(): string {
    return join(this.configDir, "clouds.yaml");
  }

  static async start(opts: OpenStackOptions = {}): Promise<OpenStackCloud> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const t0 = Date.now();
    const say = (m: string) => log(`[openstack] ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${m}`);
    const base = await cachedRoot(OPENSTACK_RECIPE);
    say(`package root ${base}`);
    const layer = initLayerPath(base);
    pruneOrphanNetns(log);
    if (!existsSync(join(layer, INIT_COMPLETE))) {
      mkdirSync(rootCacheDir(), { recursive: true });
      await withFileLock(`${layer}.lock`, async () => {
        if (existsSync(join(layer, INIT_COMPLETE))) return;
        say(`no initialised layer: building ${layer}`);
        const cloud = await OpenStackCloud.boot(base, undefined, say, log);
        try {
          await cloud.initialise(say);
          await cloud.stopDaemons(say);
          say("saving the initialised layer");
          const tmp = `${layer}.building`;
          rmSync(tmp, { recursive: true, force: true });
          // The overlay's upper dir, with its whiteouts and xattrs: stacked over base later.
          const upper = join(cloud.root.dir, "..", "upper");
          await cloud.root.ns.execOk(["cp", "-a", upper, tmp], { timeoutMs: 600_000 });
          for (const p of ["run", "tmp", "var/log/canfar-os"]) rmSync(join(tmp, p), { recursive: true, force: true });
          writeFileSync(join(tmp, INIT_COMPLETE), `${new Date().toISOString()}\n`);
          rmSync(layer, { recursive: true, force: true });
          renameSync(tmp, layer);
        } finally {
          await cloud.stop();
        }
        say("initialised layer ready");
        pruneOldLayers(layer, log);
      });
    }
    markLayerUsed(layer);
    const cloud = await OpenStackCloud.boot(base, layer, say, log);
    try {
      await cloud.waitAll(say);
      say(`ready (start ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return cloud;
    } catch (e) {
      await cloud.stop();
      throw e;
    }
  }

  /** Mounts the overlay, makes the network namespace, writes the config, starts MariaDB and RabbitMQ. */
  private static async boot(base: string, layer: string | undefined, say: (m: string) => void, log: (l: string) => void): Promise<OpenStackCloud> {
    // A second lower dir: overlayfs stacks "layer:base" (leftmost on top).
    const root = await mountOverlay(layer === undefined ? base : `${layer}:${base}`);
    const netns = `canfar-os-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    let cloud: OpenStackCloud;
    try {
      installExitHook();
      liveNetns.add(netns);
      execFileSync("ip", ["netns", "add", netns]);
      cloud = new OpenStackCloud(root, netns, log);
    } catch (e) {
      deleteNetnsNow(netns);
      await root.cleanup();
      throw e;
    }
    try {
      await cloud.setUpNetwork();
      say(`overlay mounted, netns ${netns} with lo, os-vx0/1 (${VXLAN_LOCAL_IP}), os-ext0/1`);
      await cloud.writeFiles();
      for (const d of DAEMONS) cloud.startDaemon(d.name, d.argv);
      const rabbit = cloud.waitTcp("rabbitmq", 5672, 120, say);
      rabbit.catch(() => undefined);
      await cloud.waitMariadb(say);
      // From the initialised layer, the services start beside RabbitMQ (they retry the broker):
      // their imports, CPU-bound, are most of the start time.
      if (layer !== undefined) for (const d of OPENSTACK_DAEMONS) cloud.startDaemon(d.name, d.argv);
      await rabbit;
      return cloud;
    } catch (e) {
      await cloud.stop();
      throw e;
    }
  }

  private async setUpNetwork(): Promise<void> {
    const ip = (...args: string[]) => execFileSync("ip", ["-n", this.netns, ...args]);
    ip("link", "set", "lo", "up");
    // Both ends of each pair inside the namespace: nothing touches the machine's interfaces.
    ip("link", "add", "os-vx0", "type", "veth", "peer", "name", "os-vx1");
    ip("link", "add", "os-ext0", "type", "veth", "peer", "name", "os-ext1");
    ip("addr", "add", `${VXLAN_LOCAL_IP}/24`, "dev", "os-vx0");
    for (const d of ["os-vx0", "os-vx1", "os-ext0", "os-ext1"]) ip("link", "set", d, "up");
    // /sys as the namespace sees it, or the agent would see the machine's interfaces.
    await this.nsExecOk(["mount", "-t", "sysfs", "-o", "ro", "sysfs", `${this.root.dir}/sys`], false);
  }

  private async writeFiles(): Promise<void> {
    const files: Array<[string, string]> = [...CONFIG_FILES, [CLOUDS_IN_ROOT, CLOUDS_YAML]];
    writeFileSync(this.cloudsYaml, CLOUDS_YAML);
    for (const [path, content] of files) {
      await this.root.runOk(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write", path], { stdin: content });
    }
    await this.root.runOk(
      `set -e
mkdir -p ${LOG_DIR} /run/mysqld /var/lib/nova/tmp /var/lib/nova/instances /var/lib/neutron/tmp /var/lib/glance/tmp /var/lib/glance/images /var/lib/rabbitmq
chown mysql:mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null`,
    );
  }

  /** argv run chrooted in the root, inside the netns, with a clean environment. */
  private argv(cmd: readonly string[], env: Record<string, string> = {}, chroot = true): string[] {
    const inNs = ["nsenter", "-t", String(this.root.ns.pid), "-m", `--net=/run/netns/${this.netns}`, "--"];
    if (!chroot) return [...inNs, ...cmd];
    const base = [
      `PATH=${PATH}`, "LANG=C.UTF-8", "HOME=/root", "USER=root", "LOGNAME=root",
      `OS_CLIENT_CONFIG_FILE=${CLOUDS_IN_ROOT}`,
      "RABBITMQ_NODENAME=rabbit@localhost", "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "ERL_EPMD_ADDRESS=127.0.0.1",
      "RABBITMQ_MNESIA_BASE=/var/lib/rabbitmq/mnesia", "RABBITMQ_LOG_BASE=/var/log/canfar-os",
    ];
    const envv = [...base, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
    return [...inNs, "chroot", this.root.dir, "/usr/bin/env", "-i", "--chdir=/", ...envv, ...cmd];
  }

  private nsExec(cmd: readonly string[], chroot = true, opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return execCommand(this.argv(cmd, opts.env, chroot), { stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 300_000 });
  }

  private async nsExecOk(cmd: readonly string[], chroot = true, opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const r = await this.nsExec(cmd, chroot, opts);
    if (r.code !== 0) throw new Error(`\`${cmd.join(" ")}\` exited ${r.code}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
    return r;
  }

  /** Runs a bash script inside the root and netns (never throws on exit codes). */
  sh(script: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.nsExec(["bash", "-c", script], true, opts);
  }

  /** Runs python3 code inside the root and netns (openstacksdk available). */
  python(code: string, args: string[] = [], timeoutMs = 300_000): Promise<ExecResult> {
    return this.nsExec(["python3", "-c", code, ...args], true, { timeoutMs });
  }

  /**
   * The real `openstack` CLI, inside the root and the netns, with OS_CLOUD=arbutus-canfar
   * (the project user) or arbutus-canfar-admin.
   */
  openstack(args: readonly string[], opts: { admin?: boolean; timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    return this.nsExec(["openstack", ...args], true, {
      env: { OS_CLOUD: opts.admin ? "arbutus-canfar-admin" : "arbutus-canfar" },
      timeoutMs: opts.timeoutMs ?? 180_000,
      stdin: opts.stdin,
    });
  }

  /**
   * Runs argv inside the root and the netns as a client of the cloud would: OS_CLOUD set
   * (arbutus-canfar, or the admin entry), plus `env`. Never throws on exit codes.
   */
  run(argv: readonly string[], opts: { admin?: boolean; env?: Record<string, string>; timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    return this.nsExec(argv, true, {
      env: { OS_CLOUD: opts.admin ? "arbutus-canfar-admin" : "arbutus-canfar", ...opts.env },
      timeoutMs: opts.timeoutMs ?? 300_000,
      stdin: opts.stdin,
    });
  }

  /**
   * Stops one OpenStack daemon by pid and starts it again (after a config change), then
   * waits until it answers again if it is an HTTP service.
   */
  async restart(name: string): Promise<void> {
    const spec = OPENSTACK_DAEMONS.find((d) => d.name === name);
    const i = this.daemons.findIndex((d) => d.name === name);
    const d = this.daemons[i];
    if (spec === undefined || d === undefined) throw new Error(`no daemon ${name}`);
    const exited = new Promise<void>((r) => d.child.once("exit", () => r()));
    if (d.child.exitCode === null && d.child.signalCode === null && d.child.pid !== undefined) {
      process.kill(d.child.pid, "SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
    }
    this.daemons.splice(i, 1);
    this.startDaemon(spec.name, spec.argv);
    const check = HTTP_CHECKS.find(([n]) => n === name);
    if (check) await this.waitHttp(name, check[1], 120, (m) => this.log(`[openstack] ${m}`));
  }

  /** Writes a file inside the root (e.g. a public key or user-data the CLI reads). */
  async writeFile(path: string, content: string): Promise<void> {
    await this.root.runOk(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write", path], { stdin: content });
  }

  /** The last lines of a daemon's log. */
  async logTail(name: string, lines = 40): Promise<string> {
    return (await this.sh(`tail -n ${lines} ${LOG_DIR}/${name}.log 2>&1`)).stdout;
  }

  private startDaemon(name: string, argv: readonly string[]): Daemon {
    const [cmd, ...args] = this.argv(["bash", "-c", `exec "$@" >>${LOG_DIR}/${name}.log 2>&1`, name, ...argv]);
    const child = spawn(cmd as string, args, { stdio: ["ignore", "ignore", "ignore"] });
    const d = { name, child };
    this.daemons.push(d);
    return d;
  }

  private exited(name: string): string | undefined {
    const d = this.daemons.find((x) => x.name === name);
    if (d && (d.child.exitCode !== null || d.child.signalCode !== null)) return `${name} exited ${d.child.exitCode ?? d.child.signalCode}`;
    return undefined;
  }

  private async waitMariadb(say: (m: string) => void): Promise<void> {
    const t = Date.now();
    for (let i = 0; i < 240; i++) {
      const gone = this.exited("mariadb");
      if (gone) throw new Error(`${gone}:\n${await this.logTail("mariadb")}`);
      if ((await this.sh("mariadb-admin -uroot --connect-timeout=2 ping >/dev/null 2>&1")).code === 0) {
        say(`mariadb answers (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        return;
      }
      await sleep(500);
    }
    throw new Error(`mariadb not answering:\n${await this.logTail("mariadb")}`);
  }

  private async waitTcp(name: string, port: number, seconds: number, say: (m: string) => void): Promise<void> {
    const t = Date.now();
    while (Date.now() - t < seconds * 1000) {
      const gone = this.exited(name);
      if (gone) throw new Error(`${gone}:\n${await this.logTail(name)}`);
      if ((await this.sh(`exec 3<>/dev/tcp/127.0.0.1/${port}`)).code === 0) {
        say(`${name} answers on ${port} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        return;
      }
      await sleep(500);
    }
    throw new Error(`${name} not answering on ${port} after ${seconds} s:\n${await this.logTail(name)}`);
  }

  private async waitHttp(name: string, url: string, seconds: number, say: (m: string) => void): Promise<void> {
    const t = Date.now();
    while (Date.now() - t < seconds * 1000) {
      const gone = this.exited(name);
      if (gone) throw new Error(`${gone}:\n${await this.logTail(name)}`);
      const r = await this.sh(`curl -s -o /dev/null -m 5 -w '%{http_code}' ${url}`);
      if (/^[2-4][0-9][0-9]$/.test(r.stdout.trim())) {
        say(`${name} answers ${r.stdout.trim()} at ${url} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        return;
      }
      await sleep(500);
    }
    throw new Error(`${name} not answering at ${url} after ${seconds} s:\n${await this.logTail(name)}`);
  }

  /** Starts the OpenStack daemons and waits until every one answers. */
  private async waitAll(say: (m: string) => void): Promise<void> {
    for (const d of OPENSTACK_DAEMONS) if (!this.daemons.some((x) => x.name === d.name)) this.startDaemon(d.name, d.argv);
    await Promise.all(HTTP_CHECKS.map(([name, url]) => this.waitHttp(name, url, 180, say)));
    const t = Date.now();
    const w = await this.python(WAIT_SERVICES, ["180"], 200_000);
    if (w.code !== 0) {
      const tails = await Promise.all(["nova-compute", "nova-conductor", "neutron-linuxbridge-agent"].map(async (n) => `--- ${n}\n${await this.logTail(n, 15)}`));
      throw new Error(`services not up: ${w.stderr.slice(-2000)}\n${tails.join("\n")}`);
    }
    say(`${w.stdout.trim()} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    // The compute node appears in its cell only once discover_hosts maps its host.
    const td = Date.now();
    for (let i = 0; ; i++) {
      await this.nsExecOk(["nova-manage", "cell_v2", "discover_hosts"], true, { timeoutMs: 120_000 });
      if ((await this.python(HAS_HYPERVISOR)).code === 0) break;
      if (i >= 30) throw new Error(`no hypervisor listed after discover_hosts:\n${await this.logTail("nova-compute", 15)}`);
      await sleep(1_000);
    }
    say(`nova-manage cell_v2 discover_hosts: hypervisor ${HOST} listed (${((Date.now() - td) / 1000).toFixed(1)} s)`);
  }

  /** One-time init (cached): schemas, Keystone, users and endpoints, then the cloud's content. */
  private async initialise(say: (m: string) => void): Promise<void> {
    await this.nsExecOk(["bash", "-c", CREATE_DATABASES]);
    say("databases created");
    await this.nsExecOk(["bash", "-c", KEYSTONE_INIT], true, { timeoutMs: 600_000 });
    say("keystone db_sync, fernet, credential, bootstrap done");
    const syncs = DB_SYNCS.map(async ([name, script]) => {
      const t = Date.now();
      const r = await this.nsExec(["bash", "-c", script], true, { timeoutMs: 900_000 });
      if (r.code !== 0) throw new Error(`${name} db sync exited ${r.code}:\n${r.stderr.slice(-3000)}`);
      say(`${name} db sync done (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    });
    // Keystone alone meanwhile: the service users and endpoints.
    const keystone = OPENSTACK_DAEMONS[0];
    if (keystone) this.startDaemon(keystone.name, keystone.argv);
    await this.waitHttp("keystone", "http://127.0.0.1:5000/v3", 120, say);
    const id = await this.python(IDENTITY_SETUP);
    if (id.code !== 0) throw new Error(`identity setup failed:\n${id.stderr.slice(-3000)}`);
    say("users, roles, services, endpoints registered");
    await Promise.all(syncs);
    await this.waitAll(say);
    const c = await this.python(CLOUD_SETUP);
    if (c.code !== 0) throw new Error(`cloud setup failed:\n${c.stderr.slice(-3000)}`);
    say("flavors c2-7.5gb-30 and p2-3gb, Public-Network, my-project-network, image canfar-ubuntu-20.04 created");
  }

  /** SIGTERM to each daemon by pid, last started first; SIGKILL after a grace period. */
  private async stopDaemons(say: (m: string) => void = () => undefined): Promise<void> {
    const t = Date.now();
    const reversed = [...this.daemons].reverse();
    const infra = new Set(["mariadb", "rabbitmq"]);
    const stopOne = async (d: Daemon, graceMs: number) => {
      const pid = d.child.pid;
      if (pid === undefined || d.child.exitCode !== null || d.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => d.child.once("exit", () => r()));
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = sleep(graceMs).then(() => "timeout");
      if ((await Promise.race([exited.then(() => "exited"), timer])) === "timeout") {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
        await Promise.race([exited, sleep(2_000)]);
      }
    };
    // The OpenStack services together, then RabbitMQ and MariaDB (a clean InnoDB shutdown).
    await Promise.all(reversed.filter((d) => !infra.has(d.name)).map((d) => stopOne(d, 10_000)));
    await Promise.all(reversed.filter((d) => infra.has(d.name)).map((d) => stopOne(d, 60_000)));
    this.daemons.length = 0;
    say(`daemons stopped (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }

  /** Stops every daemon by pid, ends what is left in the root, unmounts, deletes the netns. */
  async stop(): Promise<void> {
    try {
      await this.stopDaemons();
    } finally {
      // Children the daemons forked (uwsgi workers, privsep helpers, epmd) are still in the
      // root's private mount namespace: cleanup ends them by pid, then unmounts.
      await this.root.cleanup();
      deleteNetnsNow(this.netns);
      rmSync(this.configDir, { recursive: true, force: true });
      liveConfigDirs.delete(this.configDir);
      this.log(`[openstack] stopped after ${((Date.now() - this.started) / 1000).toFixed(1)} s up`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** For the test files: `openstack ... -f json` parsed, or a thrown error with stderr. */
export function json<T = unknown>(r: ExecResult): T {
  if (r.code !== 0) throw new Error(`openstack exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export { HOST };
