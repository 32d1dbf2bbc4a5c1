import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderCloudInit } from "../../build/user-data";
import {
  POOL_CONFIG_FILE,
  POOL_PASSWORD_FILE,
  START_HTCONDOR_PATH,
  renderPoolUserData,
  type PoolUserDataArgs,
} from "../../pool/user-data";
import { DISTROS } from "../../domain/distro";
import { HTCONDOR_PACKAGES } from "../../domain/packages";
import { missing } from "../support/requirements";
import { schemaComplaint } from "../support/cloud-init-schema";
const START_HTCONDOR = join(__dirname, "..", "..", "provisioning", "pool-node", "start-htcondor.sh");

// A made-up pool password: never printed (assertion messages name the argument only).
const PASSWORD = "Ex4mple-pool-pass/word+0123456789";
const BASE: PoolUserDataArgs = {
  role: "worker",
  distro: "debian",
  hostname: "canfar-worker-1",
  centralManager: "10.20.0.5",
  poolPassword: PASSWORD,
  poolNetwork: "10.20.0.0/24",
};
const HOST_KEY = {
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
  publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0000000000000000000000000000000000000000000 host",
};

interface WriteFile {
  path: string;
  content: string;
  encoding?: string;
  permissions: string;
  owner: string;
}
const docOf = (args: PoolUserDataArgs) => parse(renderPoolUserData(args)) as Record<string, unknown>;
const fileOf = (args: PoolUserDataArgs, path: string): WriteFile => {
  const f = (docOf(args).write_files as WriteFile[]).find((w) => w.path === path);
  if (f === undefined) throw new Error(`no write_files entry for ${path}`);
  return f;
};
const configOf = (args: PoolUserDataArgs): string[] => fileOf(args, POOL_CONFIG_FILE).content.split("\n");

describe("renderPoolUserData", () => {
  it("configures a worker: execute role, one partitionable slot of 100%, the central manager", () => {
    const config = configOf(BASE);
    expect(config).toContain("use ROLE : Execute");
    expect(config).not.toContain("use ROLE : Submit");
    expect(config).not.toContain("use ROLE : CentralManager");
    for (const line of ["NUM_SLOTS = 1", "NUM_SLOTS_TYPE_1 = 1", "SLOT_TYPE_1 = 100%", "SLOT_TYPE_1_PARTITIONABLE = True", "CONDOR_HOST = 10.20.0.5"]) {
      expect(config).toContain(line);
    }
    // Graceful drains let running jobs finish: the default retirement time (0) would evict them.
    expect(config).toContain("MAXJOBRETIREMENTTIME = 24 * 3600");
  });

  it("configures the submit node as central manager and schedd, with no execute slot", () => {
    const config = configOf({ ...BASE, role: "submit", hostname: "canfar-submit" });
    expect(config).toContain("use ROLE : CentralManager");
    expect(config).toContain("use ROLE : Submit");
    expect(config).not.toContain("use ROLE : Execute");
    expect(config.filter((l) => l.startsWith("SLOT_TYPE"))).toEqual([]);
  });

  it("requires authentication with IDTOKENS from the pool key, ALLOW rules inside the pool network only", () => {
    for (const role of ["submit", "worker"] as const) {
      const config = configOf({ ...BASE, role });
      expect(config).toContain("use SECURITY : RECOMMENDED_V9_0");
      expect(config).toContain("SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS");
      expect(config).toContain("POOL_NETWORK = 10.20.0.0/24");
      expect(config).toContain("DELEGATE_JOB_GSI_CREDENTIALS = False");
      const allows = config.filter((l) => l.startsWith("ALLOW_"));
      expect(allows.map((l) => l.split(" ")[0]).sort()).toEqual(["ALLOW_ADMINISTRATOR", "ALLOW_DAEMON", "ALLOW_NEGOTIATOR", "ALLOW_READ", "ALLOW_WRITE"]);
      // Every entry of every rule names the pool network as its host part.
      for (const rule of allows) {
        const entries = rule.split(" = ")[1]?.split(" ") ?? [];
        expect(entries.length, rule).toBeGreaterThan(0);
        for (const e of entries) expect(e, rule).toMatch(/\/\$\(POOL_NETWORK\)$/);
      }
      // Nothing weaker than authentication is ever offered.
      expect(config.join("\n")).not.toMatch(/CLAIMTOBE|ANONYMOUS|= *OPTIONAL|= *NEVER/i);
    }
  });

  it("hands the password to start-htcondor.sh through a root-only file on tmpfs, and runs it as the one runcmd", () => {
    const file = fileOf(BASE, POOL_PASSWORD_FILE);
    expect(file).toMatchObject({ content: PASSWORD, permissions: "0600", owner: "root:root" });
    expect(POOL_PASSWORD_FILE.startsWith("/run/")).toBe(true);
    // One command: a failing step (condor_store_cred, the configuration check) fails the boot.
    expect(docOf(BASE).runcmd).toEqual([["bash", START_HTCONDOR_PATH, POOL_PASSWORD_FILE]]);
    expect(fileOf(BASE, START_HTCONDOR_PATH)).toMatchObject({ content: readFileSync(START_HTCONDOR, "utf8"), permissions: "0755", owner: "root:root" });
    // Only that file holds it: not the configuration, not the commands.
    expect(renderPoolUserData(BASE).split(PASSWORD).length - 1).toBe(1);
    expect(fileOf(BASE, POOL_CONFIG_FILE).content.includes(PASSWORD)).toBe(false);
  });

  it("is stable: equal input, equal bytes (a change would replace the server)", () => {
    expect(renderPoolUserData({ ...BASE })).toBe(renderPoolUserData(BASE));
    expect(renderPoolUserData({ ...BASE, hostname: "canfar-worker-2" })).not.toBe(renderPoolUserData(BASE));
  });

  const bad: Array<[string, Partial<PoolUserDataArgs>, RegExp]> = [
    ["role", { role: "manager" as PoolUserDataArgs["role"] }, /^role 'manager': expected 'submit' or 'worker'/],
    ["distro", { distro: "arch" as PoolUserDataArgs["distro"] }, /^distro 'arch': expected one of ubuntu, debian, rocky/],
    ["hostname with a dot", { hostname: "worker.example" }, /^hostname 'worker.example': expected a DNS label/],
    ["hostname with an underscore", { hostname: "worker_1" }, /^hostname 'worker_1': expected a DNS label/],
    ["hostname ending in -", { hostname: "worker-" }, /^hostname/],
    ["empty hostname", { hostname: "" }, /^hostname '': expected a DNS label/],
    ["centralManager", { centralManager: "10.20.0.5; rm -rf /" }, /^centralManager '10.20.0.5; rm -rf \/': expected an IPv4 address or a host name/],
    ["centralManager 999", { centralManager: "10.20.0.999" }, /^centralManager/],
    ["centralManager outside the network", { centralManager: "10.30.0.5" }, /^centralManager '10.30.0.5': expected an address inside poolNetwork 10.20.0.0\/24/],
    ["poolNetwork", { poolNetwork: "10.20.0.0" }, /^poolNetwork: '10.20.0.0' is not in CIDR notation/],
    ["poolNetwork host bits", { poolNetwork: "10.20.0.5/24" }, /^poolNetwork: '10.20.0.5\/24' has host bits set/],
    ["poolNetwork IPv6", { poolNetwork: "2001:db8::/64" }, /^poolNetwork '2001:db8::\/64': expected an IPv4 CIDR/],
    ["empty password", { poolPassword: "" }, /^poolPassword: expected a non-empty secret$/],
    ["password with a line break", { poolPassword: "abc\ndef" }, /^poolPassword: expected printable ASCII/],
    ["password too long", { poolPassword: "x".repeat(256) }, /^poolPassword: expected at most 255 characters/],
    ["host key", { hostKey: { privateKey: "nope", publicKey: HOST_KEY.publicKey } }, /^hostKey.privateKey: expected an OpenSSH private key/],
  ];
  it.each(bad)("refuses a bad %s, naming the argument", (_name, change, message) => {
    expect(() => renderPoolUserData({ ...BASE, ...change })).toThrow(message);
  });

  it("never echoes the password in an error", () => {
    const secret = `${PASSWORD}\u0001`;
    let message = "";
    try {
      renderPoolUserData({ ...BASE, poolPassword: secret });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^poolPassword:/);
    expect(message.includes(PASSWORD)).toBe(false);
  });
});

describe("renderCloudInit with htcondor", () => {
  it("adds each distro's HTCondor package and repository, and checks the execute side is installed", () => {
    for (const distro of DISTROS) {
      const doc = parse(renderCloudInit({ distro, htcondor: true })) as Record<string, unknown>;
      for (const p of HTCONDOR_PACKAGES[distro]) expect(doc.packages, distro).toContain(p);
      // check-tools.sh --htcondor fails cloud-init when condor_master or condor_startd is missing.
      expect(doc.runcmd, distro).toEqual([["bash", "/usr/local/libexec/canfar-batch/check-tools.sh", "--htcondor"]]);
      if (distro === "rocky") {
        expect(Object.keys(doc.yum_repos as object).sort()).toEqual(["epel", "htcondor"]);
      } else {
        const sources = (doc.apt as { sources: Record<string, { source: string }> }).sources;
        expect(sources["htcondor.list"]?.source).toBe(
          `deb [signed-by=/etc/apt/keyrings/htcondor.asc] https://htcss-downloads.chtc.wisc.edu/repo/${distro}/24.0 $RELEASE main`,
        );
      }
    }
  });

  it("leaves the output without htcondor byte-identical", () => {
    for (const distro of DISTROS) {
      expect(renderCloudInit({ distro, htcondor: false })).toBe(renderCloudInit({ distro }));
      const doc = parse(renderCloudInit({ distro })) as Record<string, unknown>;
      expect(doc.packages).not.toContain("condor");
      expect(doc.runcmd).toEqual([["bash", "/usr/local/libexec/canfar-batch/check-tools.sh"]]);
      expect(JSON.stringify({ apt: doc.apt, yum: doc.yum_repos, boot: doc.bootcmd })).not.toContain("condor");
    }
  });
});

const why = missing({ commands: ["cloud-init"] });

describe.skipIf(why)("pool user-data passes the real `cloud-init schema`", () => {
  const dir = mkdtempSync(join(tmpdir(), "pool-user-data-schema-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cases: Array<[string, string]> = [
    ...DISTROS.flatMap((distro): Array<[string, string]> => [
      [`${distro} submit`, renderPoolUserData({ ...BASE, distro, role: "submit", hostname: "canfar-submit", hostKey: HOST_KEY })],
      [`${distro} worker`, renderPoolUserData({ ...BASE, distro })],
      [`${distro} build VM with htcondor`, renderCloudInit({ distro, htcondor: true })],
    ]),
  ];

  it.each(cases)("%s", (name, text) => {
    const file = join(dir, `${name.replace(/ /g, "-")}.yaml`);
    writeFileSync(file, text);
    // Only cloud-init's verdict is shown on failure: the file itself holds the pool key.
    expect(schemaComplaint(file)?.replace(/\n.*ed25519_private.*\n/g, "\n"), name).toBeUndefined();
  });

  it("and the check itself rejects a broken document", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "#cloud-config\nwrite_files: 3\n");
    expect(spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" }).status).not.toBe(0);
    expect(execFileSync("cloud-init", ["--version"], { encoding: "utf8" })).not.toBe("");
  });
});
