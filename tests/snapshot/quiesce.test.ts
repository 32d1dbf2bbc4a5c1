import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay, type RootHandle } from "../../harness/debian-root";
import { missing } from "../support/requirements";

const QUIESCE = resolve(__dirname, "../../provisioning/build-vm/quiesce.sh");
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeepThisKeyForTheCadcUser cadc-user";

// What a provisioned build VM holds right before its snapshot.
const PROVISIONED = String.raw`set -eu
useradd -m -s /bin/bash cadcuser
install -d -m 700 -o cadcuser -g cadcuser /home/cadcuser/.ssh
printf '%s\n' "$1" > /home/cadcuser/.ssh/authorized_keys
chown cadcuser:cadcuser /home/cadcuser/.ssh/authorized_keys
echo 'vcp secret.cat vos:me/' > /home/cadcuser/.bash_history
echo 'sudo canfar_setup_scratch' > /root/.bash_history
mkdir -p /usr/local/share/canfar-batch/pipeline
echo '#!/bin/bash' > /usr/local/share/canfar-batch/pipeline/do_catalogue.bash
mkdir -p /var/lib/cloud/instances/i-build/sem /var/lib/cloud/data
ln -sfn /var/lib/cloud/instances/i-build /var/lib/cloud/instance
echo i-build > /var/lib/cloud/data/instance-id
echo 'cloud-init ran' > /var/log/cloud-init.log
echo 0123456789abcdef0123456789abcdef > /etc/machine-id
touch /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease
ssh-keygen -A >/dev/null
printf 'machine ws-cadc.canfar.net login cadcuser password hunter2\n' > /home/cadcuser/.netrc
install -d -m 700 -o cadcuser /home/cadcuser/.ssl /home/cadcuser/.canfar-batch/provisioning
echo '-----BEGIN CERTIFICATE-----' > /home/cadcuser/.ssl/cadcproxy.pem
echo 'staged' > /home/cadcuser/.canfar-batch/provisioning/cadc-credentials.sh
echo 'keep me' > /home/cadcuser/.ssl/other.pem
`;

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot"], root: true });

describe.skipIf(why)("quiesce.sh on a throwaway build-VM root", () => {
  let root: RootHandle;
  let hostKeysBefore: string[];

  beforeAll(async () => {
    root = await mountOverlay(await cachedRoot(BUILD_VM_RECIPE));
    await root.runOk(["bash", "-c", `${PROVISIONED}\ncat > /usr/local/sbin/quiesce.sh; chmod 755 /usr/local/sbin/quiesce.sh`, "provision", KEY], {
      stdin: readFileSync(QUIESCE, "utf8"),
    });
    hostKeysBefore = readdirSync(root.path("/etc/ssh")).filter((f) => f.startsWith("ssh_host_")).sort();
  }, 900_000);

  afterAll(async () => {
    await root?.cleanup();
  });

  it("refuses to run as a normal user", async () => {
    const r = await root.run(["/usr/local/sbin/quiesce.sh"], { user: "cadcuser" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("must run as root");
    expect(existsSync(root.path("/var/lib/cloud/instances/i-build"))).toBe(true);
  });

  it("cleans cloud-init state, machine id, histories, apt lists and host keys, and keeps login keys and the pipeline", async () => {
    const r = await root.run(["/usr/local/sbin/quiesce.sh"]);
    expect(r.stderr).toContain("cloud-init state and logs cleaned");
    expect(r.code).toBe(0);
    expect(existsSync(root.path("/var/lib/cloud/instances"))).toBe(false);
    expect(existsSync(root.path("/var/lib/cloud/data/instance-id"))).toBe(false);
    expect(existsSync(root.path("/var/log/cloud-init.log"))).toBe(false);
    expect(readFileSync(root.path("/etc/machine-id"), "utf8")).toBe("");
    expect(existsSync(root.path("/root/.bash_history"))).toBe(false);
    expect(existsSync(root.path("/home/cadcuser/.bash_history"))).toBe(false);
    expect(readdirSync(root.path("/var/lib/apt/lists")).filter((f) => f.endsWith("InRelease"))).toEqual([]);
    expect(readFileSync(root.path("/home/cadcuser/.ssh/authorized_keys"), "utf8")).toBe(`${KEY}\n`);
    expect(existsSync(root.path("/usr/local/share/canfar-batch/pipeline/do_catalogue.bash"))).toBe(true);
    // The build VM's host key (the pinned one) does not go into the shared image.
    expect(hostKeysBefore.length).toBeGreaterThan(0);
    expect(readdirSync(root.path("/etc/ssh")).filter((f) => f.startsWith("ssh_host_"))).toEqual([]);
    expect(r.stderr).toContain("SSH host keys removed");
    // A shared image carries no CADC password, no proxy certificate and no staged copies.
    expect(r.stderr).toContain("CADC credentials (~/.netrc, proxy certificate) and staged copies removed from 1 home(s)");
    expect(existsSync(root.path("/home/cadcuser/.netrc"))).toBe(false);
    expect(existsSync(root.path("/home/cadcuser/.ssl/cadcproxy.pem"))).toBe(false);
    expect(existsSync(root.path("/home/cadcuser/.canfar-batch"))).toBe(false);
    expect(readFileSync(root.path("/home/cadcuser/.ssl/other.pem"), "utf8")).toBe("keep me\n");
  });

  it("is idempotent", async () => {
    const r = await root.run(["/usr/local/sbin/quiesce.sh"]);
    expect(r.code).toBe(0);
    expect(readFileSync(root.path("/home/cadcuser/.ssh/authorized_keys"), "utf8")).toBe(`${KEY}\n`);
  });

  it("rejects unknown arguments", async () => {
    const r = await root.run(["/usr/local/sbin/quiesce.sh", "--force"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown argument '--force'");
  });
});
