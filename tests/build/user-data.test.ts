import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHECK_TOOLS_PATH, CloudInitArgs, renderCloudInit } from "../../build/user-data";
import { missing } from "../support/requirements";
import { schemaComplaint } from "../support/cloud-init-schema";
import { renderPoolUserData, type PoolUserDataArgs } from "../../pool/user-data";

const VARIANTS: Record<string, CloudInitArgs> = {
  ubuntu: { distro: "ubuntu" },
  rocky: { distro: "rocky", upgrade: true },
  "debian-with-files": {
    distro: "debian",
    extraPackages: ["htop", "source-extractor"],
    files: [{ path: "/etc/canfar-batch/stack", content: "project: x\n# with: 'quotes' and \"double\"\n", permissions: "0600" }],
  },
  // As the program renders it for the build VM: with the host key it pins.
  "ubuntu-with-host-key": {
    distro: "ubuntu",
    hostKey: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9mZmxpbmUtcmVuZGVyLWhvc3Qta2V5LTAwMDAwMDAw" },
  },
};

describe("renderCloudInit", () => {
  it("renders the tutorial's install for Ubuntu exactly", () => {
    // The check script, verbatim in the user-data, stands as a placeholder in the snapshot.
    const rendered = renderCloudInit(VARIANTS.ubuntu);
    const script = readFileSync(join(__dirname, "../../provisioning/build-vm/check-tools.sh"), "utf8");
    const block = script.replace(/^(?=.)/gm, "      ");
    expect(rendered).toContain(block);
    expect(rendered.replace(block, "      <provisioning/build-vm/check-tools.sh, verbatim>\n")).toMatchInlineSnapshot(`
      "#cloud-config
      package_update: true
      package_upgrade: false
      packages:
        - source-extractor
        - libcfitsio-bin
      write_files:
        - path: /usr/local/libexec/canfar-batch/check-tools.sh
          content: |
            <provisioning/build-vm/check-tools.sh, verbatim>
          permissions: "0755"
          owner: root:root
      runcmd:
        - - bash
          - /usr/local/libexec/canfar-batch/check-tools.sh
      "
    `);
  });

  it("uses EPEL package names and declares EPEL for Rocky, with upgrade", () => {
    const doc = parse(renderCloudInit(VARIANTS.rocky)) as Record<string, unknown>;
    expect(doc.packages).toEqual(["sextractor", "cfitsio-utils"]);
    expect(doc.package_upgrade).toBe(true);
    expect(Object.keys(doc.yum_repos as object)).toEqual(["epel"]);
  });

  it("adds extra packages once and writes files verbatim", () => {
    const doc = parse(renderCloudInit(VARIANTS["debian-with-files"])) as Record<string, unknown>;
    expect(doc.packages).toEqual(["source-extractor", "libcfitsio-bin", "htop"]);
    expect(doc.write_files).toEqual([
      { path: "/etc/canfar-batch/stack", content: "project: x\n# with: 'quotes' and \"double\"\n", permissions: "0600", owner: "root:root" },
      // The tools check runcmd runs, as the repository holds it.
      { path: CHECK_TOOLS_PATH, content: readFileSync(join(__dirname, "../../provisioning/build-vm/check-tools.sh"), "utf8"), permissions: "0755", owner: "root:root" },
    ]);
  });

  it("is stable: equal input, equal bytes (a change would replace the server)", () => {
    expect(renderCloudInit({ distro: "ubuntu" })).toBe(renderCloudInit({ distro: "ubuntu", upgrade: false, extraPackages: [] }));
  });
});

const why = missing({ commands: ["cloud-init"] });

describe.skipIf(why)("rendered user-data passes the real `cloud-init schema`", () => {
  const dir = mkdtempSync(join(tmpdir(), "cloud-init-schema-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.keys(VARIANTS))("%s", (variant) => {
    const file = join(dir, `${variant}.yaml`);
    writeFileSync(file, renderCloudInit(VARIANTS[variant]));
    expect(schemaComplaint(file)).toBeUndefined();
  });

  // The self-hosted pool's two roles, as the program renders them (with a stand-in host key
  // and password: the schema checks shape, not secrets).
  const POOL: Record<string, PoolUserDataArgs> = {
    "pool-submit": {
      role: "submit",
      distro: "ubuntu",
      hostname: "canfar-batch-dev-submit",
      centralManager: "10.0.0.43",
      poolPassword: "pool-password-for-the-schema-check-0123456789",
      poolNetwork: "10.0.0.0/24",
      hostKey: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9mZmxpbmUtcmVuZGVyLWhvc3Qta2V5LTAwMDAwMDAw" },
    },
    "pool-worker-rocky": { role: "worker", distro: "rocky", hostname: "canfar-batch-dev-worker-0", centralManager: "10.0.0.43", poolPassword: "pool-password-for-the-schema-check-0123456789", poolNetwork: "10.0.0.0/24" },
  };

  it.each(Object.keys(POOL))("%s", (variant) => {
    const file = join(dir, `${variant}.yaml`);
    writeFileSync(file, renderPoolUserData(POOL[variant] as PoolUserDataArgs));
    expect(schemaComplaint(file)).toBeUndefined();
  });

  it("and the check itself rejects a broken document", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "#cloud-config\npackages: 3\n");
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toContain("packages");
  });
});
