import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCommand } from "../../harness/exec";
import { missing } from "../support/requirements";
import { DOUBLES_DIR } from "../../harness/doubles/doubles-dir";

const DOUBLES = ["openstack", "canfar_submit", "condor_submit", "condor_q", "condor_history", "condor_rm", "canfar-double-conf.sh"];

describe.skipIf(missing({ commands: ["shellcheck"] }))("the doubles are shellcheck-clean", () => {
  it.each(DOUBLES)("%s", async (name) => {
    const r = await execCommand(["shellcheck", "-x", "-P", "SCRIPTDIR", "--format=gcc", join(DOUBLES_DIR, name)]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

// The doubles stand in for tools the tests cannot reach; their own rules are checked here so
// a test passing against them means what it says.
describe("condor_submit double", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "condor-double-"));
    writeFileSync(join(dir, "conf"), `CANFAR_DOUBLE_STATE='${dir}/state'\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const submit = (description: string, extra: Record<string, string> = {}) =>
    // In the test's directory, where `queue ... from FILE` finds FILE.
    execCommand(["bash", "-c", 'cd "$1" && exec "$2"', "submit", dir, join(DOUBLES_DIR, "condor_submit")], {
      stdin: description,
      env: { PATH: "/usr/bin:/bin", CANFAR_DOUBLE_CONF: join(dir, "conf"), ...extra },
    });

  it.each([
    ["queue", 1],
    ["queue 3", 3],
    ["queue arguments in (a b c)", 3],
    ["queue arguments from (\n  1056215p\n\n  # comment\n  1056216p\n)", 2],
  ])("counts the jobs of %j like the real one and numbers clusters from 1234", async (queue, jobs) => {
    const r = await submit(`executable = x\n${queue}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Submitting job(s)${".".repeat(jobs)}\n${jobs} job(s) submitted to cluster 1234.\n`);
    expect(readFileSync(join(dir, "state", "submitted-1234.sub"), "utf8")).toContain(queue);
  });

  it("queues a job per line of the file `queue arguments from FILE` names, read from the current directory, and fails without it", async () => {
    writeFileSync(join(dir, "queue.txt"), "1056215p\n\n1056216p\n1056217p\n");
    const r = await submit("executable = x\nqueue arguments from queue.txt\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("3 job(s) submitted to cluster 1234.");
    rmSync(join(dir, "queue.txt"));
    const gone = await submit("executable = x\nqueue arguments from queue.txt\n");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Can\'t open "queue.txt"');
  });

  it("CONDOR_DOUBLE_FAIL fails as a schedd that does not answer", async () => {
    writeFileSync(join(dir, "conf"), `CANFAR_DOUBLE_STATE='${dir}/state'\nCONDOR_DOUBLE_FAIL=1\n`);
    const r = await submit("executable = x\nqueue\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Failed to connect to local queue manager");
  });

  it("refuses a description without a queue statement", async () => {
    const r = await submit("executable = x\n");
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("submitted to cluster");
  });
});

describe("canfar_submit double", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "canfar-double-"));
    writeFileSync(join(dir, "do_catalogue.bash"), "#!/bin/bash\n");
    writeFileSync(join(dir, "do_catalogue.sub"), "executable = do_catalogue.bash\nqueue\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (version: string, args: string[], env: Record<string, string> = {}) => {
    writeFileSync(join(dir, "conf"), `CANFAR_SUBMIT_VERSION=${version}\nCANFAR_DOUBLE_STATE='${dir}/state'\nCANFAR_DOUBLE_IMAGES=img\n`);
    return execCommand(["bash", "-c", `cd "$1" && shift && exec "$@"`, "run", dir, join(DOUBLES_DIR, "canfar_submit"), ...args], {
      env: { PATH: `${DOUBLES_DIR}:/usr/bin:/bin`, HOME: dir, CANFAR_DOUBLE_CONF: join(dir, "conf"), ...env },
    });
  };

  it("csv2 prints usage and exits 0 when given a flavor", async () => {
    const r = await run("csv2", ["do_catalogue.sub", "img", "c2-7.5gb-30"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: canfar_submit \[OPTION\] JOB_FILE VM_IMAGE\n/);
  });

  it("csv1 prints usage and exits 0 without a flavor", async () => {
    const r = await run("csv1", ["do_catalogue.sub", "img"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: canfar_submit \[OPTION\] JOB_FILE VM_IMAGE VM_FLAVOR\n/);
  });

  it("csv1 needs the OpenStack variables", async () => {
    const r = await run("csv1", ["do_catalogue.sub", "img", "c2-7.5gb-30"], { OS_AUTH_URL: "u", OS_PROJECT_ID: "p", OS_PROJECT_NAME: "n", OS_USERNAME: "x" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ERROR: Neither --os-password nor OS_PASSWORD set in the environment");
  });

  it("csv1 submits through condor_submit once everything resolves", async () => {
    const r = await run("csv1", ["do_catalogue.sub", "img", "c2-7.5gb-30"], {
      OS_AUTH_URL: "u", OS_PROJECT_ID: "p", OS_PROJECT_NAME: "n", OS_USERNAME: "x", OS_PASSWORD: "pw-zq81-secret",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 job(s) submitted to cluster 1234.");
    expect(readFileSync(join(dir, "state", "calls.log"), "utf8")).not.toContain("pw-zq81-secret");
  });
});
