import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay, type RootHandle } from "../../harness/debian-root";
import { addDefaultUser } from "../../harness/default-user";
import { missing } from "../support/requirements";
import { makeSshKey, type SshKey } from "../../harness/ssh-key";
import { sshRun, startSshd } from "../../harness/sshd";
import { installScript, stateListing } from "./root-fixtures";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "flock"] });
const USER = "jdoe";
const WATCHED = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers.d", "/home"];

describe.skipIf(why)("create-user.sh in a Debian root", () => {
  let base: string;
  let keyDir: string;
  let key: SshKey;
  let root: RootHandle;
  let script: string;

  beforeAll(async () => {
    base = await cachedRoot(BUILD_VM_RECIPE);
    keyDir = mkdtempSync(join(tmpdir(), "canfar-key-"));
    key = await makeSshKey(keyDir);
  });
  afterAll(() => rmSync(keyDir, { recursive: true, force: true }));
  beforeEach(async () => {
    root = await mountOverlay(base);
    await addDefaultUser(root, "ubuntu", key.publicKey);
    script = await installScript(root, "build-vm/create-user.sh");
  });
  afterEach(async () => {
    await root.cleanup();
  });

  const sh = async (cmd: string, user?: string): Promise<string> => (await root.runOk(cmd, { user })).stdout.trim();

  it("creates the user as canfar_create_user does, with working passwordless sudo", async () => {
    const r = await root.run([script, USER]);
    expect(r.stderr).toContain(`create-user: created user ${USER}`);
    expect(r.code).toBe(0);
    expect(await sh(`getent passwd ${USER} | cut -d: -f6,7`)).toBe(`/home/${USER}:/bin/bash`);
    expect((await sh(`id -nG ${USER}`)).split(" ")).toContain("sudo");
    expect(await sh(`stat -c '%a %U:%G' /home/${USER}/.ssh /home/${USER}/.ssh/authorized_keys`)).toBe(
      `700 ${USER}:${USER}\n600 ${USER}:${USER}`,
    );
    expect(await sh(`cat /home/${USER}/.ssh/authorized_keys`)).toBe(key.publicKey);
    expect(await sh(`stat -c '%a %U:%G' /etc/sudoers.d/90-canfar-${USER}`)).toBe("440 root:root");
    expect(await sh(`grep -v '^#' /etc/sudoers.d/90-canfar-${USER}`)).toBe(`${USER} ALL=(ALL) NOPASSWD:ALL`);
    expect((await root.run("visudo -c")).code).toBe(0);
    expect(await sh("sudo -n true && sudo -n id -un", USER)).toBe("root");
    expect(await sh("ls -A /etc/sudoers.d")).not.toMatch(/create-user/);
  });

  it("changes nothing when run again, and exits 0", async () => {
    await root.runOk([script, USER]);
    const before = await stateListing(root, WATCHED);
    const again = await root.run([script, USER]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`user ${USER} exists`);
    expect(await stateListing(root, WATCHED)).toBe(before);
  });

  it("brings an existing user into shape and keeps the keys it already had", async () => {
    await sh(`useradd -m -s /bin/sh ${USER} && install -d -m 755 -o ${USER} /home/${USER}/.ssh && echo 'ssh-ed25519 AAAAextra other@host' > /home/${USER}/.ssh/authorized_keys && chmod 644 /home/${USER}/.ssh/authorized_keys`);
    const r = await root.run([script, USER]);
    expect(r.code).toBe(0);
    expect(await sh(`getent passwd ${USER} | cut -d: -f7`)).toBe("/bin/bash");
    expect(await sh(`cat /home/${USER}/.ssh/authorized_keys`)).toBe(`ssh-ed25519 AAAAextra other@host\n${key.publicKey}`);
    expect(await sh(`stat -c '%a' /home/${USER}/.ssh /home/${USER}/.ssh/authorized_keys`)).toBe("700\n600");
    expect(await sh("sudo -n true && echo ok", USER)).toBe("ok");
  });

  it("gives an existing user without a home one from /etc/skel", async () => {
    await sh(`useradd -s /bin/bash ${USER}`);
    const r = await root.run([script, USER]);
    expect(r.code).toBe(0);
    expect(await sh(`stat -c '%U' /home/${USER} /home/${USER}/.bashrc /home/${USER}/.ssh/authorized_keys`)).toBe(`${USER}\n${USER}\n${USER}`);
    expect(await sh("sudo -n true && echo ok", USER)).toBe("ok");
  });

  it("uses wheel where there is no sudo group (Rocky images)", async () => {
    await sh("groupdel sudo && groupadd -r wheel");
    await root.runOk([script, USER]);
    expect((await sh(`id -nG ${USER}`)).split(" ")).toContain("wheel");
  });

  it("fails clearly when no default user has keys to copy", async () => {
    await sh("rm /home/ubuntu/.ssh/authorized_keys");
    const r = await root.run([script, USER]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `create-user: error: no authorized_keys under /home/{cloud-user,debian,ubuntu,fedora,centos,rocky,ec2-user}/.ssh: ${USER} could not log in over SSH`,
    );
  });

  it("rejects bad arguments with exit 2, touching nothing (one root for all: none may change it)", async () => {
    const cases: Array<[args: string[], message: string]> = [
      [[], "create-user: error: expected exactly one argument, USER; got 0"],
      [["a", "b"], "create-user: error: expected exactly one argument, USER; got 2"],
      [["J.Doe"], "create-user: error: invalid user name 'J.Doe': expected ^[a-z_][a-z0-9_-]{0,31}$"],
      [["-rf"], "create-user: error: invalid user name '-rf'"],
      [["a".repeat(33)], `create-user: error: invalid user name '${"a".repeat(33)}'`],
      [["jdoe;id"], "create-user: error: invalid user name 'jdoe;id'"],
      [["root"], "create-user: error: refusing user name 'root': it is a system account"],
      [["www-data"], "create-user: error: refusing user name 'www-data': it is a system account"],
    ];
    for (const [args, message] of cases) {
      const before = await stateListing(root, WATCHED);
      const r = await root.run([script, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(message);
      expect(await stateListing(root, WATCHED)).toBe(before);
    }
  });

  it("refuses an existing system account not in its list", async () => {
    await sh("useradd -r svcacct");
    const r = await root.run([script, "svcacct"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing user name 'svcacct': it is a system account \(uid [0-9]+\)/);
  });

  it("prints usage with --help and exits 0", async () => {
    const r = await root.run([script, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Usage: create-user.sh USER");
  });

  it("lets the new user log in over real SSH with the default user's key and use sudo", async () => {
    await root.runOk([script, USER]);
    const sshd = await startSshd(root);
    try {
      const r = await sshRun({ port: sshd.port, user: USER, keyPath: key.privateKeyPath }, "id -un && sudo -n true && echo sudo-ok");
      expect(r.stderr + sshd.log()).not.toContain("Permission denied");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${USER}\nsudo-ok\n`);
      const asRoot = await sshRun({ port: sshd.port, user: "root", keyPath: key.privateKeyPath }, "true");
      expect(asRoot.code).toBe(255);
    } finally {
      await sshd.stop();
    }
  });
});
