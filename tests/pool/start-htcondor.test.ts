import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freshFakePath } from "../support/fake-path";

// The failure paths of a pool node's first boot, with HTCondor's tools and the file tools
// faked (recorders), so nothing on this machine is touched. The whole path succeeding, with
// the real condor_store_cred, is tests/batch/self-hosted-pool.test.ts (cloud-init runs it).
const SCRIPT = join(__dirname, "..", "..", "provisioning", "pool-node", "start-htcondor.sh");
const isRoot = process.getuid?.() === 0;

describe("start-htcondor.sh", () => {
  const path = freshFakePath();
  let dir = "";
  let calls = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "start-htcondor-"));
    calls = join(dir, "calls");
    writeFileSync(join(dir, "pool-password"), "a-pool-password-for-the-test", { mode: 0o600 });
    for (const tool of ["install", "rm", "chmod", "condor_config_val", "systemctl"]) path.fake(tool, `echo "${tool} $*" >> ${calls}`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("prints its usage with --help, and refuses no argument or an option with exit 2", async () => {
    expect((await path.run(SCRIPT, ["--help"])).code).toBe(0);
    const none = await path.run(SCRIPT, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("expected one argument, the password file, got 0");
    expect((await path.run(SCRIPT, ["--frobnicate"])).stderr).toContain("unknown option '--frobnicate'");
  });

  it("fails the boot, naming the file, when the user-data wrote no password", async () => {
    const r = await path.run(SCRIPT, [join(dir, "absent")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no password file at '${join(dir, "absent")}'`);
  });

  // The key is root's: the script refuses anyone else before touching anything.
  it.skipIf(!isRoot)("fails the boot when condor_store_cred cannot write the key: nothing restarted, nothing removed", async () => {
    path.fake("condor_store_cred", `echo "condor_store_cred $*" >> ${calls}; echo "error writing password file" >&2; exit 1`);
    const r = await path.run(SCRIPT, [join(dir, "pool-password")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("condor_store_cred could not write the pool key /etc/condor/passwords.d/POOL: the node cannot join the pool");
    const made = readFileSync(calls, "utf8");
    expect(made).toContain(`condor_store_cred add -c -i ${join(dir, "pool-password")} -f /etc/condor/passwords.d/POOL`);
    expect(made).not.toMatch(/^(rm|systemctl|condor_config_val) /m);
  });
});
