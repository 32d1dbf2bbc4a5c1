import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../../provisioning/plan";
import type { ExecResult } from "../support/exec";
import { missing } from "../support/requirements";
import { BuildVmStandIn, newKey, PASSWORD, programFor, provision } from "./build-vm";

// The build VM the program describes, brought up for real: the dev stack's user-data through
// cloud-init's real stages (packages from the Debian mirror), then every provisioning step
// the program declares, over real SSH, in its order, as its user, with its stdin.
const why = missing({ root: true, commands: ["debootstrap", "unshare", "ssh", "scp", "ssh-keygen"] });

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

describe.skipIf(why)("system: the rendered build VM, provisioned over SSH", () => {
  let vm: BuildVmStandIn;
  let actions: Action[];
  let cloudInit: ExecResult;
  let first: Map<string, ExecResult>;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  beforeAll(async () => {
    const { key, dir } = await newKey();
    const program = await programFor(key);
    actions = program.actions;
    log(`system: booting the build VM stand-in (cloud-init installs ${program.userData.match(/^  - .*$/gm)?.join(" ")})`);
    ({ vm, cloudInit } = await BuildVmStandIn.boot(key, dir, { userData: program.userData, defaultUser: program.settings.defaultUser, cadcUser: program.settings.cadcUser }));
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
});
