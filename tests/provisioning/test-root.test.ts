import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_VM_RECIPE, cachedRoot, debianMirror, mountOverlay, recipeHash } from "../../harness/debian-root";
import { addDefaultUser } from "../../harness/default-user";
import { execCommand } from "../../harness/exec";
import { withFileLock } from "../../harness/file-lock";
import { missing } from "../support/requirements";
import { makeSshKey, type SshKey } from "../../harness/ssh-key";
import { sshRun, startSshd } from "../../harness/sshd";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "flock"] });

function hostMounts(): string {
  return readFileSync("/proc/self/mountinfo", "utf8");
}

describe("root recipes", () => {
  it("hash the recipe: package order does not matter, packages and setup do", () => {
    const m = "http://deb.debian.org/debian";
    const a = recipeHash({ suite: "bookworm", include: ["sudo", "openssh-server"] }, m);
    expect(recipeHash({ suite: "bookworm", include: ["openssh-server", "sudo"] }, m)).toBe(a);
    expect(recipeHash({ suite: "bookworm", include: ["sudo"] }, m)).not.toBe(a);
    expect(recipeHash({ suite: "trixie", include: ["sudo", "openssh-server"] }, m)).not.toBe(a);
    expect(recipeHash({ suite: "bookworm", include: ["sudo", "openssh-server"], extraSetup: "true" }, m)).not.toBe(a);
    expect(recipeHash({ suite: "bookworm", include: ["sudo", "openssh-server"] }, "http://other/debian")).not.toBe(a);
  });

  it("take the mirror from the host's apt sources", () => {
    expect(debianMirror()).toMatch(/^https?:\/\/\S+\/debian$/);
  });
});

describe.skipIf(why)("test roots", () => {
  let base: string;
  let keyDir: string;
  let key: SshKey;

  beforeAll(async () => {
    base = await cachedRoot(BUILD_VM_RECIPE);
    keyDir = mkdtempSync(join(tmpdir(), "canfar-key-"));
    key = await makeSshKey(keyDir);
  });
  afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

  it("are complete cached roots with what the build VM stand-in needs", async () => {
    expect(existsSync(join(base, ".canfar-batch-root-complete"))).toBe(true);
    for (const tool of ["/usr/sbin/sshd", "/usr/bin/sudo", "/usr/bin/cloud-init", "/usr/bin/openssl", "/usr/sbin/policy-rc.d"]) {
      expect(existsSync(join(base, tool)), tool).toBe(true);
    }
    expect(await cachedRoot(BUILD_VM_RECIPE)).toBe(base);
  });

  it("write to a throwaway overlay, mount nothing on the host, and leave nothing behind", async () => {
    const mountsBefore = hostMounts();
    const root = await mountOverlay(base);
    const tmp = join(root.dir, "..");
    try {
      await root.runOk("echo changed > /etc/canfar-marker && mount -t tmpfs scratch /mnt && touch /mnt/inside");
      expect(readFileSync(root.path("/etc/canfar-marker"), "utf8")).toBe("changed\n");
      expect(existsSync(join(base, "etc/canfar-marker"))).toBe(false);
      expect(hostMounts()).toBe(mountsBefore);
      expect(existsSync("/mnt/inside")).toBe(false);
      expect((await root.runOk("for m in /proc /dev /dev/pts /mnt; do findmnt -n -o FSTYPE \"$m\"; done")).stdout).toBe("proc\ntmpfs\ndevpts\ntmpfs\n");
      root.spawn(["sleep", "600"]);
      await root.runOk("test -c /dev/null && test -c /dev/urandom && ! test -e /dev/vda && ! test -e /dev/loop0");
    } finally {
      await root.cleanup();
    }
    expect(existsSync(tmp)).toBe(false);
    expect(root.ns.members()).toEqual([]);
    expect(existsSync(`/proc/${root.ns.pid}`)).toBe(false);
    expect(hostMounts()).toBe(mountsBefore);
  });

  it("run commands as a user with a clean environment", async () => {
    const root = await mountOverlay(base);
    try {
      await root.runOk("useradd -m -s /bin/bash jdoe");
      const r = await root.runOk('echo "$(id -un) $HOME $PWD $EXTRA ${CANFAR_BATCH_REQUIRE_ALL:-unset}"; cat', {
        user: "jdoe",
        env: { EXTRA: "x" },
        stdin: "from-stdin",
      });
      expect(r.stdout).toBe("jdoe /home/jdoe /home/jdoe x unset\nfrom-stdin");
      expect((await root.run("exit 3")).code).toBe(3);
      await expect(root.runOk("echo oops >&2; exit 3")).rejects.toThrow(/exited 3:\noops/);
    } finally {
      await root.cleanup();
    }
  });

  it("serve real SSH on 127.0.0.1 only, refusing root and unknown keys", async () => {
    const root = await mountOverlay(base);
    try {
      await addDefaultUser(root, "ubuntu", key.publicKey);
      const sshd = await startSshd(root);
      try {
        expect(sshd.hostKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+$/);
        const listening = readFileSync("/proc/net/tcp", "utf8")
          .split("\n")
          .filter((l) => l.includes(`:${sshd.port.toString(16).toUpperCase().padStart(4, "0")} `) && l.split(/\s+/)[4] === "0A");
        expect(listening.map((l) => l.trim().split(/\s+/)[1])).toEqual([`0100007F:${sshd.port.toString(16).toUpperCase().padStart(4, "0")}`]);
        const ok = await sshRun({ port: sshd.port, user: "ubuntu", keyPath: key.privateKeyPath }, "sudo -n id -un; cat", "in");
        expect(ok.stdout).toBe("root\nin");
        const other = await makeSshKey(keyDir, "other");
        const denied = await sshRun({ port: sshd.port, user: "ubuntu", keyPath: other.privateKeyPath }, "true");
        expect(denied.code).toBe(255);
      } finally {
        await sshd.stop();
      }
    } finally {
      await root.cleanup();
    }
  });
});

describe.skipIf(missing({ commands: ["flock"] }))("withFileLock", () => {
  it("serialises holders of the same lock, across processes too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canfar-lock-"));
    const lock = join(dir, "root.lock");
    const events: string[] = [];
    const hold = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 150));
        events.push(`${name}-`);
      });
    try {
      await Promise.all([hold("a"), hold("b"), hold("c")]);
      for (let i = 0; i < events.length; i += 2) {
        expect(events[i + 1]).toBe(events[i]?.replace("+", "-"));
      }
      const other = await execCommand(["flock", "-n", lock, "true"]);
      expect(other.code).toBe(0);
      const held = withFileLock(lock, () => execCommand(["flock", "-n", lock, "true"]));
      expect((await held).code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
