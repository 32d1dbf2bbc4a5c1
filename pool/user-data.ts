import { isIPv4 } from "node:net";
import { stringify } from "yaml";
import { SCRIPTS, scriptText, userDataPath } from "../provisioning/scripts";
import { parseCidr } from "../domain/cidr";
import { POOL_PASSWORD_MAX } from "../domain/batch-system";
import { hostKeyCloudConfig } from "../build/host-key-cloud-config";
import { DISTROS, type Distro } from "../domain/distro";

/*
 * The user-data of a self-hosted pool's nodes (issue 14): a submit node (central manager and
 * schedd) and workers (one partitionable execute slot), all booted from the worker image, which
 * has HTCondor installed at build time (build/user-data.ts, `htcondor: true`). Cloud-init
 * writes HTCondor's configuration and the pool's signing key; nothing is installed at boot.
 *
 * Security: HTCondor's recommended configuration (RECOMMENDED_V9_0: authentication, encryption
 * and integrity REQUIRED for everything but READ) with IDTOKENS, signed by the pool key every
 * member holds (/etc/condor/passwords.d/POOL, written from the pool password). Daemons that
 * can read the key authenticate each other with it and no token to distribute (HTCondor 23.9
 * names them condor@password, which ALLOW_DAEMON's condor@* admits: tests/batch/
 * self-hosted-pool.test.ts); a machine without the key (or with another one) cannot
 * authenticate, so it can neither advertise a slot (DAEMON) nor submit (WRITE). Root on the
 * submit node makes itself a short-lived token from the key to drain workers
 * (provisioning/batch-host/drain-worker.sh). IDTOKENS rather than PASSWORD: PASSWORD is the older scheme (8.x) kept for
 * compatibility; the same key file serves both, and IDTOKENS is what 9.0+ recommends and
 * enables by default. Every ALLOW rule is also restricted to the pool's network.
 */

export type PoolRole = "submit" | "worker";

/** HTCondor's shared port: the only port pool members open to each other. */
export const HTCONDOR_PORT = 9618;

export interface PoolUserDataArgs {
  role: PoolRole;
  distro: Distro;
  /** The node's host name (cloud-init `hostname`), also its HTCondor machine name. */
  hostname: string;
  /** Address of the central manager: the submit node's fixed IP on the project network. */
  centralManager: string;
  /** The pool secret in plain text: callers unwrap the Pulumi secret inside an apply and mark the result secret. */
  poolPassword: string;
  /** CIDR of the network the pool's members talk on (HTCondor ALLOW rules). */
  poolNetwork: string;
  /** The node's SSH host key, installed as its only host key (as build/user-data.ts does for the build VM). */
  hostKey?: { privateKey: string; publicKey: string };
}


// RFC 1123 label: what Nova and cloud-init accept as a host name, and HTCondor as a machine name.
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function isHostName(text: string): boolean {
  return text.length <= 253 && text.split(".").every((label) => DNS_LABEL.test(label)) && !/^[0-9.]+$/.test(text);
}

/** Throws an Error naming the first bad argument and what was expected; never echoes the password. */
function validate(args: PoolUserDataArgs): void {
  if (args.role !== "submit" && args.role !== "worker") {
    throw new Error(`role '${String(args.role)}': expected 'submit' or 'worker'`);
  }
  if (!(DISTROS as readonly string[]).includes(args.distro)) {
    throw new Error(`distro '${String(args.distro)}': expected one of ${DISTROS.join(", ")}`);
  }
  if (!DNS_LABEL.test(args.hostname)) {
    throw new Error(`hostname '${args.hostname}': expected a DNS label (1-63 letters, digits or '-', not starting or ending with '-')`);
  }
  if (!isIPv4(args.centralManager) && !isHostName(args.centralManager)) {
    throw new Error(`centralManager '${args.centralManager}': expected an IPv4 address or a host name`);
  }
  const net = parseCidr(args.poolNetwork);
  if (typeof net === "string") throw new Error(`poolNetwork: ${net}`);
  if (net.family !== "IPv4") throw new Error(`poolNetwork '${args.poolNetwork}': expected an IPv4 CIDR (the pool runs with ENABLE_IPV6 = False)`);
  if (isIPv4(args.centralManager) && !inNetwork(args.centralManager, net.address, net.prefix)) {
    throw new Error(`centralManager '${args.centralManager}': expected an address inside poolNetwork ${args.poolNetwork}, or no member could reach it under the ALLOW rules`);
  }
  if (typeof args.poolPassword !== "string" || args.poolPassword.length === 0) {
    throw new Error("poolPassword: expected a non-empty secret");
  }
  // Printable ASCII only: no line break can end the value early, and the scrambled bytes
  // (XOR with bytes >= 0x80) never contain the NUL HTCondor would stop reading at.
  if (!/^[\x20-\x7e]+$/.test(args.poolPassword)) {
    throw new Error("poolPassword: expected printable ASCII characters only (no line breaks or control characters)");
  }
  if (args.poolPassword.length > POOL_PASSWORD_MAX) {
    throw new Error(`poolPassword: expected at most ${POOL_PASSWORD_MAX} characters (HTCondor reads no more)`);
  }
  if (args.hostKey !== undefined) {
    if (!/^-----BEGIN OPENSSH PRIVATE KEY-----/.test(args.hostKey.privateKey)) {
      throw new Error("hostKey.privateKey: expected an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)");
    }
    if (!/^ssh-ed25519 [A-Za-z0-9+/=]+( .*)?$/.test(args.hostKey.publicKey.trim())) {
      throw new Error(`hostKey.publicKey '${args.hostKey.publicKey}': expected 'ssh-ed25519 AAAA...'`);
    }
  }
}

function inNetwork(address: string, network: string, prefix: number): boolean {
  const n = (a: string): number => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - prefix);
  return Math.floor(n(address) / size) === Math.floor(n(network) / size);
}

/**
 * Where the pool's signing key (and PASSWORD-method password) lives: HTCondor's default
 * SEC_PASSWORD_FILE. Named here for the configuration's comment only: start-htcondor.sh
 * writes it (KEY_FILE there), and the pool test checks the file on every node.
 */
const POOL_KEY_FILE = "/etc/condor/passwords.d/POOL";
/** The pool's HTCondor configuration, one file (config.d is read in order; 50 leaves room both sides). */
export const POOL_CONFIG_FILE = "/etc/condor/config.d/50-canfar-pool.conf";
/**
 * The pool password as cloud-init writes it, for condor_store_cred to turn into the pool key
 * at first boot: on tmpfs (gone at the next boot), root-only, removed once stored. Written in
 * clear rather than pre-scrambled so that the offline render can show it as [secret]; the
 * scrambling is an obfuscation anyway (XOR with de ad be ef), not a protection.
 */
export const POOL_PASSWORD_FILE = "/run/canfar-batch/pool-password";
/**
 * The first-boot step of a pool node (provisioning/pool-node/start-htcondor.sh), carried by
 * the user-data as check-tools.sh is by the build VM's: it runs before anything is staged.
 */
export const START_HTCONDOR_PATH = userDataPath(SCRIPTS.startHtcondor);
const START_HTCONDOR = scriptText(SCRIPTS.startHtcondor);

/** The HTCondor configuration of a pool node (no secret in it). */
export function poolCondorConfig(args: Pick<PoolUserDataArgs, "role" | "centralManager" | "poolNetwork">): string {
  const daemons = "condor@*/$(POOL_NETWORK) condor_pool@*/$(POOL_NETWORK)";
  const common = [
    `# canfar-batch self-hosted pool: ${args.role === "submit" ? "submit node (central manager and schedd)" : "worker (execute)"}.`,
    "# Written by cloud-init at first boot (components/pool-user-data.ts).",
    `CONDOR_HOST = ${args.centralManager}`,
    `POOL_NETWORK = ${args.poolNetwork}`,
    "# One domain for the whole pool: jobs run as their submitter on the workers (the image has",
    "# the CADC user), and every member mints and checks IDTOKENS under the same issuer.",
    "UID_DOMAIN = $(CONDOR_HOST)",
    "TRUST_DOMAIN = $(CONDOR_HOST)",
    "# No DNS on a project network: the submit node's claim to UID_DOMAIN is taken as is",
    "# (it authenticated with the pool key).",
    "TRUST_UID_DOMAIN = True",
    "# Listen on the one address HTCondor advertises (the project network's), not on every",
    "# interface; IPv4 only, as the ALLOW rules are.",
    "BIND_ALL_INTERFACES = False",
    "ENABLE_IPV6 = False",
    "",
    "# HTCondor's recommended security: authentication, encryption and integrity required for",
    "# everything but READ. IDTOKENS signed with the pool key (" + POOL_KEY_FILE + ") between",
    "# machines, FS for local users (condor_submit on the submit node). Nothing unauthenticated",
    "# may advertise a daemon (ALLOW_DAEMON) or submit (WRITE needs authentication).",
    "use SECURITY : RECOMMENDED_V9_0",
    "SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS",
    "ALLOW_READ = */$(POOL_NETWORK)",
    "ALLOW_WRITE = */$(POOL_NETWORK)",
    `ALLOW_DAEMON = ${daemons}`,
    `ALLOW_NEGOTIATOR = ${daemons}`,
    // root on the submit node drains workers (provisioning/batch-host/drain-worker.sh).
    `ALLOW_ADMINISTRATOR = ${daemons} root@*/$(POOL_NETWORK)`,
    "",
    "# A job's x509userproxy is copied, not delegated: HTCondor 23 and 24 on OpenSSL 3 fail to",
    "# delegate (HTCONDOR-2904, fixed in 25.0) and then reschedule the job for ever.",
    "DELEGATE_JOB_GSI_CREDENTIALS = False",
    "",
  ];
  const role =
    args.role === "submit"
      ? ["use ROLE : CentralManager", "use ROLE : Submit"]
      : [
          "use ROLE : Execute",
          "# One partitionable slot with the whole VM: jobs take the CPUs and memory they request.",
          "NUM_SLOTS = 1",
          "NUM_SLOTS_TYPE_1 = 1",
          "SLOT_TYPE_1 = 100%",
          "SLOT_TYPE_1_PARTITIONABLE = True",
          "# A scale-down drains a worker gracefully (condor_drain -graceful): running jobs are",
          "# promised this long to finish, so none is killed (the default, 0, evicts at once).",
          "MAXJOBRETIREMENTTIME = 24 * 3600",
        ];
  return `${[...common, ...role].join("\n")}\n`;
}

/**
 * Renders a pool node's `#cloud-config`. Pure and stable (a change replaces the server). The
 * result holds the pool secret: callers mark it secret.
 */
export function renderPoolUserData(args: PoolUserDataArgs): string {
  validate(args);
  const doc: Record<string, unknown> = {
    // The host name is the node's HTCondor machine name (condor_drain names a worker by it).
    preserve_hostname: false,
    hostname: args.hostname,
    prefer_fqdn_over_hostname: false,
    ...(args.hostKey ? hostKeyCloudConfig(args.hostKey) : {}),
    write_files: [
      { path: POOL_CONFIG_FILE, content: poolCondorConfig(args), permissions: "0644", owner: "root:root" },
      { path: POOL_PASSWORD_FILE, content: args.poolPassword, permissions: "0600", owner: "root:root" },
      { path: START_HTCONDOR_PATH, content: START_HTCONDOR, permissions: "0755", owner: "root:root" },
    ],
    // One command, so a failing step fails the boot (separate runcmd lines do not): the pool
    // key written by HTCondor's own condor_store_cred, the clear copy removed, the
    // configuration checked, condor (re)started.
    runcmd: [["bash", START_HTCONDOR_PATH, POOL_PASSWORD_FILE]],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
