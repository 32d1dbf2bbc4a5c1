import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { seedNoCloud, runCloudInitStages } from "../../harness/cloud-init";
import type { RootHandle } from "../../harness/debian-root";
import { missing } from "../support/requirements";
import { freshRootEachTest } from "./root-fixtures";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "nsenter", "chroot", "flock"] });

describe.skipIf(why)("wait-cloud-init.sh with the root's real cloud-init", () => {
  let root: RootHandle;
  let script: string;
  freshRootEachTest("build-vm/wait-cloud-init.sh", (r, s) => {
    root = r;
    script = s;
  });

  it("reports done once cloud-init has run the user-data", async () => {
    const machine = hostname();
    await seedNoCloud(root, "#cloud-config\nlocale: C.UTF-8\nruncmd:\n  - [sh, -c, 'echo ran > /var/tmp/runcmd-ran']\n");
    await runCloudInitStages(root);
    // The seed's local-hostname (buildvm) is set in the stages' own UTS namespace, never here.
    expect(hostname()).toBe(machine);
    expect((await root.runOk("cat /etc/hostname")).stdout.trim()).toBe("buildvm");
    const r = await root.run([script, "--timeout", "60"]);
    expect(r.stderr).toContain("wait-cloud-init: cloud-init done");
    expect(r.code).toBe(0);
    expect((await root.runOk("cat /var/tmp/runcmd-ran")).stdout).toBe("ran\n");
  });

  it("fails with cloud-init's status and log when the user-data failed", async () => {
    await seedNoCloud(root, "#cloud-config\nlocale: C.UTF-8\nruncmd:\n  - [sh, -c, 'echo provisioning-broke >&2; exit 7']\n");
    await runCloudInitStages(root);
    const r = await root.run([script, "--timeout", "60"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wait-cloud-init: error: cloud-init reports an error (status exit 1):");
    expect(r.stderr).toContain("status: error");
    expect(r.stderr).toContain("--- last lines of /var/log/cloud-init-output.log");
    expect(r.stderr).toContain("provisioning-broke");
  });

  it("gives up after --timeout while cloud-init has not finished", async () => {
    const r = await root.run([script, "--timeout", "2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("wait-cloud-init: error: cloud-init still running after 2 s");
  });

  it.each([
    [["--timeout", "soon"], "wait-cloud-init: error: --timeout needs a whole number of seconds, got 'soon'"],
    [["--timeout"], "wait-cloud-init: error: --timeout needs a whole number of seconds, got ''"],
    [["now"], "wait-cloud-init: error: unknown argument 'now'"],
  ])("rejects %j with exit 2", async (args, message) => {
    const r = await root.run([script, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
