import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateSettings } from "../../config/schema";
import { Action, provisioningPlan } from "../../build/provisioning-plan";
import { evaluate } from "../../offline/evaluate";
import { readStackConfig } from "../../offline/stack-file";
import { runCloudInitStages, seedNoCloud } from "../../harness/cloud-init";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay, type RootHandle } from "../../harness/debian-root";
import { addDefaultUser } from "../../harness/default-user";
import { execCommand, execOk, type ExecResult } from "../../harness/exec";
import { makeSshKey, type SshKey } from "../../harness/ssh-key";
import { hostKeyOptions, hostKeyRefusal, sshAuthOptions, startSshd, sshRun, type SshdHandle } from "../../harness/sshd";
import { cadcGetCertDouble } from "../../harness/cadc-get-cert-double";

const ROOT = join(__dirname, "..", "..");
// Shell-special characters, to show the password travels untouched on stdin.
export const PASSWORD = "Sys-test_p@ss$word!#;&|*";

/** The dev stack's config with this test's key pair and password, as `pulumi up` would see it. */
export function devStackConfig(key: SshKey, overrides: Record<string, string | undefined> = {}) {
  const stack = readStackConfig(join(ROOT, "Pulumi.dev.yaml"));
  const merged: Record<string, string | undefined> = {
    ...stack.config,
    "canfar:sshPublicKey": key.publicKey,
    "canfar:sshPrivateKey": key.privateKey,
    "canfar:cadcPassword": PASSWORD,
    ...overrides,
  };
  // An override of undefined removes the key (the agent path has no private key at all).
  const config = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  return { config, secretKeys: stack.secretKeys.filter((k) => k in config) };
}

let hostKeyOutput: string | undefined;

/** A real host key, made once per test process by the program's own generate-host-key.sh. */
export async function generatedHostKey(): Promise<string> {
  hostKeyOutput ??= (await execOk(["bash", join(ROOT, "provisioning", "local", "generate-host-key.sh")])).stdout;
  return hostKeyOutput;
}

/**
 * The dev stack evaluated as `pulumi up` would see it: the real host key where the program
 * generates one, and secrets revealed, so the system test replays exactly what is declared.
 */
async function evaluateDev(key: SshKey, overrides: Record<string, string | undefined>) {
  const hostKey = await generatedHostKey();
  return evaluate("canfar-batch", "dev", devStackConfig(key, overrides), {
    revealSecrets: true,
    localStdout: (_name, create) => (create.includes("generate-host-key.sh") ? hostKey : undefined),
  });
}

/** Every resource the program declares for the dev stack with this test's key, as a render records them. */
export async function resourcesFor(key: SshKey, overrides: Record<string, string | undefined> = {}) {
  return (await evaluateDev(key, overrides)).resources;
}

/** What the program declares for the dev stack: the instance's user-data and the SSH actions. */
export async function programFor(key: SshKey, overrides: Record<string, string | undefined> = {}) {
  const stack = devStackConfig(key, overrides);
  const evaluation = await evaluateDev(key, overrides);
  const vm = evaluation.resources.find((r) => r.type === "openstack:compute/instance:Instance");
  const userData = (vm?.inputs as { userData?: string } | undefined)?.userData;
  if (typeof userData !== "string") throw new Error("the program declared no instance user-data");

  const raw = Object.fromEntries(Object.entries(stack.config).map(([k, v]) => [k.replace(/^canfar:/, ""), v]));
  const settings = validateSettings(raw, new Set(stack.secretKeys.map((k) => k.replace(/^canfar:/, ""))));
  if (!settings.ok) throw new Error(JSON.stringify(settings.problems));
  const s = settings.settings;
  // The same plan index.ts builds; checked below against what the program declared.
  const actions = provisioningPlan({ defaultUser: s.defaultUser, cadcUser: s.cadcUser, scratchDevice: s.scratchDevice });
  for (const a of actions) {
    const declared = evaluation.resources.find((r) => r.name === `provision-${a.id}`);
    const inputs = declared?.inputs as { create?: string; remotePath?: string; source?: { path?: string } } | undefined;
    const same = a.kind === "run" ? inputs?.create === a.command : inputs?.remotePath === a.remote && inputs?.source?.path === a.local;
    if (!same) throw new Error(`the program's provision-${a.id} differs from the plan replayed here: ${JSON.stringify(inputs)}`);
  }
  const overSsh = evaluation.resources.filter((r) => r.name.startsWith("provision-") && r.type.startsWith("command:remote:"));
  if (overSsh.length !== actions.length) {
    throw new Error("the program declares provisioning actions the plan does not have");
  }
  // The host key every connection to the VM pins, as declared.
  const pinned = evaluation.resources.filter((r) => r.name.startsWith("provision-") && r.type.startsWith("command:remote:")).map((r) => (r.inputs as { connection?: { hostKey?: unknown } }).connection?.hostKey);
  const hostKey = pinned[0];
  if (typeof hostKey !== "string" || pinned.some((k) => k !== hostKey)) throw new Error("the program's connections do not all pin one host key");
  return { userData, actions, settings: s, hostKey };
}

/** A build VM stand-in: the cached Debian root, its NoCloud seed, cloud-init run for real. */
export class BuildVmStandIn {
  private constructor(
    readonly root: RootHandle,
    readonly key: SshKey,
    private readonly keyDir: string,
  ) {}
  private sshd?: SshdHandle;
  /** Set: SSH goes through this ssh-agent, with no key file (canfar:sshAgent). */
  agentSocket?: string;
  /** The host key every connection pins, as the program's connections do. */
  pinnedHostKey?: string;

  private get auth() {
    return this.agentSocket ? { agentSocket: this.agentSocket } : { keyPath: this.key.privateKeyPath };
  }

  static async boot(
    key: SshKey,
    keyDir: string,
    opts: { userData: string; defaultUser: string; cadcUser: string; port?: number },
  ): Promise<{ vm: BuildVmStandIn; cloudInit: ExecResult }> {
    const { userData, defaultUser, cadcUser } = opts;
    const base = await cachedRoot(BUILD_VM_RECIPE);
    const root = await mountOverlay(base);
    const vm = new BuildVmStandIn(root, key, keyDir);
    try {
      await seedNoCloud(root, userData);
      // What the Ubuntu image and its ephemeral disk bring: the default user holding the key
      // pair, and something mounted on /mnt (cloud-init's mounts module does it on a VM).
      await addDefaultUser(root, defaultUser, key.publicKey);
      await root.runOk("mount -t tmpfs -o size=256m ephemeral0 /mnt");
      await root.runOk(["bash", "-c", 'cat > /usr/local/bin/cadc-get-cert && chmod 755 /usr/local/bin/cadc-get-cert'], {
        stdin: cadcGetCertDouble({ user: cadcUser, password: PASSWORD }),
      });
      const cloudInit = await runCloudInitStages(root);
      // A given port: a replacement server answering at the address of the one it replaces.
      vm.sshd = await startSshd(root, opts.port === undefined ? {} : { port: opts.port });
      return { vm, cloudInit };
    } catch (e) {
      await vm.stop();
      throw e;
    }
  }

  /** The ed25519 host key the stand-in's sshd shows. */
  get hostKey(): string {
    if (!this.sshd) throw new Error("sshd is not running");
    return this.sshd.hostKey;
  }

  get port(): number {
    if (!this.sshd) throw new Error("sshd is not running");
    return this.sshd.port;
  }

  ssh(user: string, command: string, stdin?: string): Promise<ExecResult> {
    return sshRun({ port: this.port, user, hostKey: this.pinnedHostKey, ...this.auth }, command, stdin);
  }

  /** Copies a file over real SSH (scp), as remote.CopyToRemote does. */
  scp(user: string, local: string, remote: string): Promise<ExecResult> {
    const auth = sshAuthOptions(this.auth);
    return execCommand(
      ["scp", "-q", "-P", String(this.port), ...auth.options, ...hostKeyOptions(this.port, this.pinnedHostKey), "-o", "BatchMode=yes", local, `${user}@127.0.0.1:${remote}`],
      { timeoutMs: 60_000, env: auth.env },
    );
  }

  /** Ends sshd, removes the root and (unless the next server takes it over) the key. */
  async stop(opts: { keepKey?: boolean } = {}): Promise<void> {
    await this.sshd?.stop();
    await this.root.cleanup();
    if (!opts.keepKey) rmSync(this.keyDir, { recursive: true, force: true });
  }
}

export function newKey(): Promise<{ key: SshKey; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "system-key-"));
  return makeSshKey(dir).then((key) => ({ key, dir }));
}

export class StepFailed extends Error {}

/**
 * Replays the plan over SSH in its listed order (a valid order of its dependencies), each
 * action as its login, each secret on stdin. Returns each run's output, by action id.
 */
export async function provision(vm: BuildVmStandIn, actions: readonly Action[], secrets: { cadcPassword: string }, log: (line: string) => void = () => {}): Promise<Map<string, ExecResult>> {
  const results = new Map<string, ExecResult>();
  for (const a of actions) {
    const started = Date.now();
    const result =
      a.kind === "copy"
        ? await vm.scp(a.login, a.local, a.remote)
        : await vm.ssh(a.login, a.command, a.stdin ? secrets[a.stdin] : undefined);
    log(`system: ${a.id} (${a.login}) exit ${result.code} in ${Date.now() - started} ms`);
    const refused = vm.pinnedHostKey === undefined ? undefined : hostKeyRefusal(vm.port, vm.pinnedHostKey, result.stderr);
    if (refused) throw new StepFailed(`provisioning step '${a.id}': ${refused}`);
    if (result.code !== 0) {
      const what = a.kind === "run" ? a.description : `copy ${a.local} to ${a.remote}`;
      throw new StepFailed(`provisioning step '${a.id}' (${what}) failed with exit ${result.code}:\n${result.stderr.trim()}\n${result.stdout.trim()}`);
    }
    results.set(a.id, result);
  }
  return results;
}

