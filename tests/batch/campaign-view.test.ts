import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { DOUBLES_DIR } from "../../harness/doubles/doubles-dir";
import { DOUBLES as VOS_DOUBLES } from "../pipeline/support";

// campaign.sh over the stack's run directories, against the condor_q double (which answers
// `condor_q CLUSTER... -af:t ...` from a jobs file) and the VOSpace doubles.
const CAMPAIGN = resolve(__dirname, "../../provisioning/batch-host/campaign.sh");
const CAMPAIGN_JOBS = resolve(__dirname, "../../provisioning/batch-host/campaign-jobs.sh");
const CLI = resolve(__dirname, "../../provisioning/lib/cli.sh");
const P = "3fa9c0d21b7e";
const OLD = "0123456789ab";
const IDS = ["2000001p", "2000002p", "2000003p", "2000004p", "2000005p", "2000006p"];

describe("campaign.sh: the whole campaign of a stack in one view", () => {
  let home: string;
  let runs: string;
  let vos: string;
  let state: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "campaign-view-"));
    runs = join(home, "canfar-batch", "runs");
    vos = join(home, "vospace");
    state = join(home, "state");
    for (const d of [runs, join(vos, "me", "cats"), state]) mkdirSync(d, { recursive: true });
    writeFileSync(join(state, "conf"), `CANFAR_DOUBLE_STATE='${state}'\n`);
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  /** A run directory STACK-HASH with campaign.sh, exposures.txt and the marker submit.sh writes. */
  const run = (name: string, ids: readonly string[], marker: Record<string, string>): string => {
    const dir = join(runs, name);
    mkdirSync(dir);
    copyFileSync(CAMPAIGN, join(dir, "campaign.sh"));
    copyFileSync(CAMPAIGN_JOBS, join(dir, "campaign-jobs.sh"));
    // As the run directory has it: the shared library is delivered beside the scripts.
    copyFileSync(CLI, join(dir, "cli.sh"));
    writeFileSync(join(dir, "exposures.txt"), ids.map((id) => `${id}\n`).join(""));
    writeFileSync(join(dir, ".canfar-submitted"), Object.entries({ hash: "x", ...marker }).map(([k, v]) => `${k}=${v}\n`).join(""));
    return dir;
  };
  const stored = (...names: string[]) => {
    for (const n of names) writeFileSync(join(vos, "me", "cats", n), "x\n");
  };
  /** condor_q's view: "CLUSTER PROC STATUS ARGS [REASON]". */
  const queue = (...jobs: Array<[number, number, number, string, string?]>) =>
    writeFileSync(join(state, "jobs"), jobs.map((j) => `${j.slice(0, 4).join("\t")}\t${j[4] ?? "undefined"}\n`).join(""));
  const view = (dir: string, ...args: string[]) =>
    execCommand(["bash", join(dir, "campaign.sh"), ...args], {
      env: {
        PATH: `${DOUBLES_DIR}:${VOS_DOUBLES}:/usr/bin:/bin`,
        CANFAR_DOUBLE_CONF: join(state, "conf"),
        VOS_DOUBLE_ROOT: vos,
        DOUBLES_LOG: join(state, "vos.log"),
      },
      timeoutMs: 30_000,
    });
  const calls = (file: string) => readFileSync(join(state, file), "utf8").trim().split("\n");

  it("counts every submission of the stack against one listing and one condor_q, with the held ones and the command that retries them", async () => {
    const dest = "vos:me/cats";
    // The first submission (4 IDs, cluster 100), then 2 more (cluster 101); another stack
    // whose name starts with this one's is not part of it.
    run(`dev-${"a".repeat(12)}`, IDS.slice(0, 4), { cluster: "100", submitted: "2026-12-04T10:00:00Z", dest, pipeline: P });
    const newest = run(`dev-${"b".repeat(12)}`, IDS, { cluster: "101", submitted: "2026-12-04T11:00:00Z", dest, pipeline: P });
    run(`dev-2-${"c".repeat(12)}`, IDS, { cluster: "900", submitted: "2026-12-04T12:00:00Z", dest, pipeline: P });
    stored(`${IDS[0]}.${P}.cat`, `${IDS[1]}.${P}.cat`, `${IDS[5]}.${OLD}.cat`, `.${IDS[5]}.cat.part-w-1`);
    queue(
      [100, 2, 5, IDS[2], "do_catalogue exited 3: download failed (ID.fits.fz missing or unreachable)"],
      [100, 3, 2, IDS[3]],
      [101, 0, 1, IDS[4]],
      // An older job for an ID a newer cluster holds: the newer one speaks for it.
      [99, 0, 2, IDS[4]],
      [900, 0, 5, IDS[5], "not this stack"],
    );
    const r = await view(newest);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      `campaign dev: 6 exposures, pipeline ${P}, catalogues in ${dest}`,
      `[##########--------------------]  33%  2 done, 1 running, 1 idle, 1 held, 1 not yet submitted`,
      "submissions: 2 (clusters: 101 100)",
      "held (1), each with its reason:",
      `  100.2 ${IDS[2]}: do_catalogue exited 3: download failed (ID.fits.fz missing or unreachable)`,
      "Once the cause is fixed, run just these again with:",
      "  condor_release 100",
      `not yet submitted (1), e.g. ${IDS[5]}: the next submission (pulumi up) queues them`,
      "",
    ]);
    expect(calls("calls.log")).toEqual(["condor_q 101 100 -af:t ClusterId ProcId JobStatus Args HoldReason"]);
    expect(calls("vos.log")).toEqual([`vls ${dest}`]);
  });

  it("a converged campaign: a full bar, no held section; a submission that queued nothing has no cluster to ask", async () => {
    const dest = join(home, "cats");
    mkdirSync(dest);
    for (const id of IDS.slice(0, 2)) writeFileSync(join(dest, `${id}.${P}.cat`), "x\n");
    const dir = run(`prod-${"d".repeat(12)}`, IDS.slice(0, 2), { cluster: "", submitted: "2026-12-04T10:00:00Z", dest, pipeline: P });
    const r = await view(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("[##############################] 100%  2 done, 0 running, 0 idle, 0 held, 0 not yet submitted");
    expect(r.stdout).toContain("submissions: 1 (clusters: none)");
    expect(r.stdout).not.toContain("held (");
    expect(() => readFileSync(join(state, "calls.log"))).toThrow();
  });

  it("says so when nothing was submitted yet, when the destination cannot be listed, and documents itself", async () => {
    const dir = join(runs, `dev-${"e".repeat(12)}`);
    mkdirSync(dir);
    copyFileSync(CAMPAIGN, join(dir, "campaign.sh"));
    copyFileSync(CAMPAIGN_JOBS, join(dir, "campaign-jobs.sh"));
    // As the run directory has it: the shared library is delivered beside the scripts.
    copyFileSync(CLI, join(dir, "cli.sh"));
    const none = await view(dir);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("nothing submitted yet for stack dev");
    run(`dev-${"f".repeat(12)}`, IDS, { cluster: "7", submitted: "2026-12-04T10:00:00Z", dest: "vos:me/none", pipeline: P });
    const unlisted = await view(dir);
    expect(unlisted.code).toBe(6);
    expect(unlisted.stderr).toContain("listing vos:me/none failed: ERROR:: [Errno 2] NodeNotFound: vos:me/none");
    const help = await view(dir, "--help");
    expect(help.code).toBe(0);
    expect(help.stderr).toContain("usage: campaign.sh [--help]");
    const bad = await view(dir, "--watch");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown argument '--watch'");
  });
});
