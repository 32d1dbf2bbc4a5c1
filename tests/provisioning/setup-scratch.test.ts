import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RootHandle } from "../../harness/debian-root";
import { execOk } from "../../harness/exec";
import { missing } from "../support/requirements";
import { freshRootEachTest, stateListing } from "./root-fixtures";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "nsenter", "chroot", "losetup", "mkfs.ext4", "flock"] });

// Every mount below happens inside the root's private mount namespace: the host's /mnt is never touched.
describe.skipIf(why)("setup-scratch.sh in a Debian root", () => {
  let root: RootHandle;
  let script: string;
  freshRootEachTest("build-vm/setup-scratch.sh", (r, s) => {
    root = r;
    script = s;
  });

  const sh = async (cmd: string): Promise<string> => (await root.runOk(cmd)).stdout.trim();

  it("fails clearly when the flavor has no ephemeral disk, creating nothing", async () => {
    const r = await root.run([script]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("setup-scratch: error: flavor has no ephemeral disk: /dev/vdb not found; choose a c* flavor (e.g. c2-7.5gb-30)");
    expect(await sh("test -e /mnt/scratch && echo present || echo absent")).toBe("absent");
  });

  it("only creates scratch (1777) when something is already mounted on /mnt, and changes nothing on a re-run", async () => {
    await sh("mount -t tmpfs -o size=16m ephemeral0 /mnt");
    const r = await root.run([script]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("/mnt is already a mount point; using it");
    expect(await sh("stat -c '%a %U:%G' /mnt/scratch")).toBe("1777 root:root");
    expect(await sh("findmnt -n -o SOURCE,FSTYPE --target /mnt/scratch")).toBe("ephemeral0 tmpfs");
    const before = await stateListing(root, ["/mnt"]);
    const again = await root.run([script]);
    expect(again.code).toBe(0);
    expect(await stateListing(root, ["/mnt"])).toBe(before);
    expect(await sh("findmnt -n /mnt | wc -l")).toBe("1");
  });

  /** A real 64 MB ext4 disk on a loop device, as node `name` in the root's private /dev only. */
  async function withEphemeralDisk(name: string, fn: () => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "canfar-disk-"));
    const image = join(dir, "ephemeral.img");
    let loop: string | undefined;
    try {
      await execOk(["truncate", "-s", "64M", image]);
      await execOk(["mkfs.ext4", "-q", "-F", "-L", "ephemeral0", image]);
      loop = (await execOk(["losetup", "-f", "--show", image])).stdout.trim();
      const rdev = statSync(loop).rdev;
      const major = (rdev >> 8) & 0xfff;
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      await sh(`mknod -m 660 ${name} b ${major} ${minor}`);
      await fn();
    } finally {
      // Unmount (inside the namespace) before the loop device can be detached.
      await root.cleanup();
      if (loop !== undefined) await execOk(["losetup", "-d", loop]);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("mounts the ephemeral device when nothing is mounted", async () => {
    await withEphemeralDisk("/dev/vdb", async () => {
      const r = await root.run([script, "--owner", "nobody"]);
      expect(r.stderr).toContain("mounted /dev/vdb on /mnt");
      expect(r.code).toBe(0);
      expect(await sh("findmnt -n -o SOURCE,FSTYPE /mnt")).toMatch(/^\/dev\/vdb +ext4$/);
      expect(await sh("stat -c '%a %U:%G' /mnt/scratch")).toBe("1777 nobody:nogroup");
      const again = await root.run([script, "--owner", "nobody"]);
      expect(again.code).toBe(0);
      expect(await sh("findmnt -n /mnt | wc -l")).toBe("1");
    });
  });

  it("falls back to the disk labelled ephemeral0 when there is no /dev/vdb (unless --device is given)", async () => {
    await withEphemeralDisk("/dev/sdb", async () => {
      await sh("mkdir -p /dev/disk/by-label && ln -s ../../sdb /dev/disk/by-label/ephemeral0");
      const explicit = await root.run([script, "--device", "/dev/vdb"]);
      expect(explicit.code).toBe(3);
      const r = await root.run([script]);
      expect(r.stderr).toContain("mounted /dev/disk/by-label/ephemeral0 on /mnt");
      expect(r.code).toBe(0);
      expect(await sh("findmnt -n -o FSTYPE,LABEL /mnt")).toMatch(/^ext4 +ephemeral0$/);
    });
  });

  it("repairs a scratch directory with the wrong mode or owner", async () => {
    await sh("mount -t tmpfs ephemeral0 /mnt && mkdir -m 755 /mnt/scratch && useradd -m jdoe");
    await root.runOk([script, "--owner", "jdoe"]);
    expect(await sh("stat -c '%a %U:%G' /mnt/scratch")).toBe("1777 jdoe:jdoe");
  });

  it("honours --device and --mountpoint", async () => {
    await sh("mkdir /scratchdisk && mount -t tmpfs other /scratchdisk");
    const r = await root.run([script, "--device", "/dev/vdc", "--mountpoint", "/scratchdisk"]);
    expect(r.code).toBe(0);
    expect(await sh("stat -c '%a' /scratchdisk/scratch")).toBe("1777");
    const missingDisk = await root.run([script, "--device", "/dev/vdc", "--mountpoint", "/data"]);
    expect(missingDisk.code).toBe(3);
    expect(missingDisk.stderr).toContain("flavor has no ephemeral disk: /dev/vdc not found");
  });

  it("rejects bad arguments with exit 2, touching nothing (one root for all: none may change it)", async () => {
    const cases: Array<[args: string[], message: string]> = [
      [["--device", "vdb"], "setup-scratch: error: --device must be an absolute path such as /dev/vdb, got 'vdb'"],
      [["--mountpoint", "mnt"], "setup-scratch: error: --mountpoint must be an absolute path such as /mnt, got 'mnt'"],
      [["--owner", "nosuchuser"], "setup-scratch: error: --owner: no such user 'nosuchuser'"],
      [["--owner"], "setup-scratch: error: --owner needs a value"],
      [["/dev/vdb"], "setup-scratch: error: unknown argument '/dev/vdb'"],
    ];
    await sh("mount -t tmpfs ephemeral0 /mnt");
    for (const [args, message] of cases) {
      const r = await root.run([script, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(message);
      expect(await sh("ls -A /mnt | wc -l")).toBe("0");
    }
  });
});
