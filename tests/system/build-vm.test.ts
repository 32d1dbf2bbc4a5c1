import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../../build/provisioning-plan";
import type { ExecResult } from "../../harness/exec";
import { missing } from "../support/requirements";
import { predict } from "../../tools/preview/predict";
import { BuildVmStandIn, generatedHostKey, newKey, PASSWORD, programFor, provision, resourcesFor } from "./build-vm";
import type { SshKey } from "../../harness/ssh-key";
import { startSshAgent } from "../support/ssh-agent";

// The build VM the program describes, brought up for real: the dev stack's user-data through
// cloud-init's real stages (packages from the Debian mirror), then every provisioning step
// the program declares, over real SSH, in its order, as its user, with its stdin.
const why = missing({ root: true, commands: ["debootstrap", "unshare", "ssh", "scp", "ssh-keygen", "ssh-agent", "ssh-add"] });

/** Everything provisioning is meant to change, hashed: equal before and after a re-run. */
const STATE = String.raw`set -eu
{
  getent passwd astronomer; id astronomer
  stat -c '%n %a %U:%G' /home/astronomer /home/astronomer/.ssh /home/astronomer/.ssh/authorized_keys /home/astronomer/.netrc /mnt/scratch
  for f in /etc/sudoers.d/*; do stat -c '%n %a' "$f"; sha256sum "$f"; done
  sha256sum /home/astronomer/.ssh/authorized_keys /home/astronomer/.netrc
  find /usr/local/share/canfar-batch /usr/local/bin -printf '%p %m %l\n' | sort
  find /usr/local/share/canfar-batch -type f -exec sha256sum {} + | sort
  findmnt -n -o TARGET,FSTYPE /mnt
}`;

/**
 * Counts the files of the root holding the CADC password, and the certificates in it. Left
 * out: what stands in for CADC here (the cadc-get-cert double knows the password it checks)
 * and for Nova's metadata service (the NoCloud seed).
 */
function scanForCredentials(vm: BuildVmStandIn): Promise<ExecResult> {
  return vm.root.run(
    String.raw`set -u
password_files=$(grep -rlF --exclude-dir=seed --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev -- "$PW" / 2>/dev/null | grep -vx /usr/local/bin/cadc-get-cert | wc -l)
certificates=$(find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /usr/share/ca-certificates -o -path /etc/ssl -o -path /usr/lib/python3 -o -path /usr/local/lib \) -prune -o -type f -name '*.pem' -print 2>/dev/null | xargs -r grep -l 'BEGIN CERTIFICATE' 2>/dev/null | wc -l)
printf '%s files contain the password, %s certificates\n' "$password_files" "$certificates"`,
    { env: { PW: PASSWORD } },
  );
}

describe.skipIf(why)("system: the rendered build VM, provisioned over SSH", () => {
  let vm: BuildVmStandIn;
  let key: SshKey;
  let keyDir: string;
  let actions: Action[];
  let cloudInit: ExecResult;
  let first: Map<string, ExecResult>;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  beforeAll(async () => {
    const made = await newKey();
    key = made.key;
    keyDir = made.dir;
    const program = await programFor(key);
    actions = program.actions;
    log(`system: booting the build VM stand-in (cloud-init installs ${program.userData.match(/^  - .*$/gm)?.join(" ")})`);
    ({ vm, cloudInit } = await BuildVmStandIn.boot(key, made.dir, { userData: program.userData, defaultUser: program.settings.defaultUser, cadcUser: program.settings.cadcUser }));
    // cloud-init installed the program's host key: every replay pins it, as the program does.
    expect(vm.hostKey).toBe(program.hostKey);
    vm.pinnedHostKey = program.hostKey;
    first = await provision(vm, actions, { cadcPassword: PASSWORD }, log);
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  it("ran cloud-init's stages without error, and its packages are installed", async () => {
    expect(cloudInit.code, cloudInit.stderr.slice(-2000)).toBe(0);
    const status = await vm.root.run("cloud-init status --long");
    expect(status.stdout).toMatch(/status: done/);
    const tools = await vm.root.run("command -v source-extractor funpack");
    expect(tools.stdout).toContain("/usr/bin/source-extractor");
    expect(tools.stdout).toContain("/usr/bin/funpack");
  });

  it("ran every step the program declares, in its order", () => {
    expect([...first.keys()]).toEqual(actions.map((a) => a.id));
  });

  it("lets the CADC user log in with the key pair's key and use sudo", async () => {
    const r = await vm.ssh("astronomer", "id -un && sudo -n true && echo sudo-ok");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("astronomer\nsudo-ok\n");
  });

  it("made /mnt/scratch on the ephemeral disk, sticky and world-writable", async () => {
    const r = await vm.root.runOk("stat -c '%a %U' /mnt/scratch && findmnt -n -o FSTYPE /mnt");
    expect(r.stdout).toBe("1777 astronomer\ntmpfs\n");
  });

  it("gave the CADC user ~/.netrc (600) and a valid proxy certificate, the password only on stdin", async () => {
    const r = await vm.root.runOk("stat -c '%a %U' /home/astronomer/.netrc && openssl x509 -checkend 86400 -noout -in /home/astronomer/.ssl/cadcproxy.pem && echo valid");
    expect(r.stdout).toBe("600 astronomer\nCertificate will not expire\nvalid\n");
    expect((await vm.root.runOk("cat /tmp/cadc-get-cert.ps")).stdout).not.toContain(PASSWORD);
  });

  it("installed the pipeline", async () => {
    const r = await vm.ssh("astronomer", "do_catalogue.bash --help");
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Exit codes/i);
  });

  it("ran the smoke test, which found sources in the sample exposure", () => {
    expect(first.get("smoke-test")?.stderr).toMatch(/passed: [1-9][0-9]* sources in [0-9]+[a-z]\.cat/);
  });

  it("changes nothing when the whole provisioning runs a second time", async () => {
    const before = (await vm.root.runOk(STATE)).stdout;
    await provision(vm, actions, { cadcPassword: PASSWORD }, log);
    const after = (await vm.root.runOk(STATE)).stdout;
    expect(after).toBe(before);
    expect(before).toContain("/mnt/scratch 1777 astronomer:astronomer");
  });

  // canfar:sshAgent: no private key in the config; every step authenticates through a real
  // ssh-agent holding the key, and no key file is offered.
  it("provisions through the ssh-agent, with no private key in the config", async () => {
    const agentStack = { "canfar:sshAgent": "true", "canfar:sshPrivateKey": undefined };
    const program = await programFor(key, agentStack);
    expect(program.actions.map((a) => a.id)).toEqual(actions.map((a) => a.id));
    const agent = await startSshAgent([key.privateKeyPath]);
    try {
      vm.agentSocket = agent.socket;
      const results = await provision(vm, program.actions, { cadcPassword: PASSWORD }, log);
      expect(results.get("smoke-test")?.stderr).toMatch(/passed: [1-9][0-9]* sources/);
    } finally {
      vm.agentSocket = undefined;
      await agent.stop();
    }
    // Without the agent (and no key file), the same host refuses: the agent really was the way in.
    const noAgent = await startSshAgent([]);
    try {
      vm.agentSocket = noAgent.socket;
      expect((await vm.ssh("ubuntu", "true")).code).toBe(255);
    } finally {
      vm.agentSocket = undefined;
      await noAgent.stop();
    }
  });

  // Day two, for real: a change that replaces the server. The new server is a fresh root at
  // the old one's address; exactly the steps the prediction says will run are replayed on
  // it, and it must end provisioned as the first one did, before anything would image it.
  it("a replaced server, given exactly the predicted steps, ends fully provisioned; nothing changed runs nothing", async () => {
    const change = { "canfar:extraPackages": JSON.stringify(["htop"]) };
    const prediction = predict(await resourcesFor(key), await resourcesFor(key, change));
    const vmStep = prediction.steps.find((s) => s.type === "openstack:compute/instance:Instance");
    expect(vmStep).toMatchObject({ op: "replace", deleteBeforeReplace: true });
    const program = await programFor(key, change);
    const running = new Set(prediction.steps.filter((s) => s.op !== "same" && s.op !== "delete").map((s) => s.name));
    const replay = program.actions.filter((a) => running.has(`provision-${a.id}`));
    // A new server: every action, none left out (the defect was: none at all).
    expect(replay.map((a) => a.id)).toEqual(program.actions.map((a) => a.id));
    // Nothing is imaged before the last provisioning step: the snapshot waits on it.
    expect(running.has("worker-image-image")).toBe(true);

    const port = vm.port;
    const before = (await vm.root.runOk(STATE)).stdout;
    await vm.stop({ keepKey: true }); // delete-before-replace: the old server is gone first
    const fresh = await BuildVmStandIn.boot(key, keyDir, { userData: program.userData, defaultUser: program.settings.defaultUser, cadcUser: program.settings.cadcUser, port });
    vm = fresh.vm;
    expect(fresh.cloudInit.code, fresh.cloudInit.stderr.slice(-2000)).toBe(0);
    // The new server shows the same pinned host key: it comes with the user-data.
    expect(vm.hostKey).toBe(program.hostKey);
    vm.pinnedHostKey = program.hostKey;
    expect(vm.port).toBe(port);
    const results = await provision(vm, replay, { cadcPassword: PASSWORD }, log);
    expect(results.get("smoke-test")?.stderr).toMatch(/passed: [1-9][0-9]* sources/);
    expect((await vm.root.runOk("command -v htop")).stdout).toContain("htop");
    // Provisioned as the first server was: the same user, scratch, credentials and pipeline.
    expect((await vm.root.runOk(STATE)).stdout).toBe(before);

    const again = predict(await resourcesFor(key, change), await resourcesFor(key, change));
    const rerun = program.actions.filter((a) => again.steps.some((s) => s.name === `provision-${a.id}` && s.op !== "same"));
    expect(rerun).toEqual([]);
    expect(again.steps.every((s) => s.op === "same")).toBe(true);
  }, 600_000);

  // The snapshot's quiesce, as declared, over SSH: the image it leaves carries no host key of
  // the build VM (each worker makes its own), and nothing holds the private host key.
  it("quiesce, as the program declares it, leaves no host key, password or certificate in what becomes the image", async () => {
    // The scan below finds what provisioning left: the password in ~/.netrc, the proxy certificate.
    expect((await scanForCredentials(vm)).stdout).toMatch(/^[1-9][0-9]* files contain the password, [1-9][0-9]* certificates\n$/);
    const resources = await resourcesFor(key, { "canfar:extraPackages": JSON.stringify(["htop"]) });
    const copy = resources.find((r) => r.name === "worker-image-copy-quiesce")?.inputs as { source: { path: string }; remotePath: string };
    const quiesce = resources.find((r) => r.name === "worker-image-quiesce")?.inputs as { create: string; connection: { user: string } };
    expect((await vm.scp(quiesce.connection.user, copy.source.path, copy.remotePath)).code).toBe(0);
    const r = await vm.ssh(quiesce.connection.user, quiesce.create);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("SSH host keys removed");
    expect((await vm.root.runOk("ls /etc/ssh")).stdout).not.toMatch(/ssh_host_/);
    const privateKey = (await generatedHostKey()).split("-----END OPENSSH PRIVATE KEY-----")[0] ?? "";
    const secretLine = privateKey.split("\n")[2] ?? "";
    expect(secretLine.length).toBeGreaterThan(20);
    // cloud-init's copy of the user-data (which holds the key) is gone with its state. The
    // NoCloud seed is this test's stand-in for Nova's metadata service, not part of a VM's disk.
    const holders = await vm.root.run(["grep", "-rlF", "--exclude-dir=seed", "--", secretLine, "/etc", "/var", "/home", "/root", "/usr/local"]);
    expect(holders.stdout).toBe("");
    expect(holders.code).toBe(1); // grep: searched, nothing found

    // Nor the CADC password nor a proxy certificate: a worker image is shared between projects.
    const scan = await scanForCredentials(vm);
    process.stdout.write(`root scan after quiesce: ${scan.stdout}`);
    expect(scan.stdout).toBe("0 files contain the password, 0 certificates\n");
    expect(existsSync(vm.root.path("/home/astronomer/.netrc"))).toBe(false);
  });
});
