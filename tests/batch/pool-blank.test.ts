import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_EXIT_CODES } from "../../domain/pipeline-exit-codes";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { writeRootFile } from "../../harness/root-files";
import { ensureSampleExposure } from "../../tools/fits/sample-cache";
import { missing } from "../support/requirements";
import { EXIT } from "../pipeline/support";
import type { ExecResult } from "../../harness/exec";
import { ARCHIVE, HtcondorPool, VOSPACE } from "../../harness/htcondor-pool";

// A blank exposure (sky noise, no star) on a real HTCondor pool (Debian 13 htcondor on
// 127.0.0.1): the catalogue check fails it with exit 7, nothing of it is stored, and the
// submit file's hold rule holds the job naming it with its class.
// One job of both exposures (exposuresPerJob 2, the blank first), not two jobs: only a job of
// several exposures names the failed one in its hold reason (CatalogueFailures, through
// condor_chirp); a job of one says "exited 7" and leaves the ID to its log's name. It also
// shows the rule's sharper case: the job is held although the exposure after the blank was
// stored, which a re-run then skips. Several exposures a job is the default (4).
const USER = "astronomer";
const BLANK = "2500071p";
const GOOD = "2500072p";
const P = "0123456789ab";
const HELD = 5; // JobStatus
const JOB_POLICY = 3; // HoldReasonCode: the job's own on_exit_hold
const WORKER = resolve(__dirname, "..", "..", "provisioning", "worker");
const CERT = resolve(__dirname, "..", "..", "tools", "test-certificate.sh");
const CERT_IN_ROOT = "/usr/local/libexec/canfar-test/test-certificate.sh";
// The pool's job wrapper (harness/htcondor-pool.ts), wrapped by job-leftovers.sh in this
// test's root only: HTCondor removes a job's scratch directory whatever the job left in it,
// so what the pipeline itself cleaned up can only be seen from inside, at the job's exit.
const WRAPPER = "/usr/local/libexec/canfar-test/job-wrapper";
const LEFTOVERS_LOG = "/var/log/canfar-test/leftovers.log";
const EXECUTE = "/var/lib/condor/execute";

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "fpack"], root: true });

describe.skipIf(why)("a blank exposure in a job on a real HTCondor pool", () => {
  let pool: HtcondorPool;
  let cluster = "";
  let ended = "";
  const check = (what: string) => (r: ExecResult) => {
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  const catalogues = () => readdirSync(pool.root.path(`${VOSPACE}/${USER}/catalogues`)).sort();
  const cadcCalls = (): string[] => readFileSync(pool.root.path("/var/log/canfar-test/cadc.log"), "utf8").split("\n").filter((l) => l !== "");
  const ad = async (attrs: string): Promise<string> => (await pool.ssh(`condor_q ${cluster} -af ${attrs}`).then(check(`condor_q -af ${attrs}`))).stdout.trim();

  /** Polls until the job is held, removed or has left the queue; returns "STATUS" or "history: STATUS EXITCODE". */
  async function waitForEnd(timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const status = (await pool.ssh(`condor_q ${cluster} -af JobStatus`)).stdout.trim();
      if (["3", HELD.toString()].includes(status)) return status;
      if (status === "") {
        const h = await pool.ssh(`condor_history ${cluster} -af JobStatus ExitCode`);
        return `history: ${h.stdout.trim()}`;
      }
      if (Date.now() > end) throw new Error(`job ${cluster} still in status ${status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    pool = await HtcondorPool.start({ user: USER, cadc: { user: USER, password: "unused-here" } });
    // As check.test.ts makes its blank one: the same generator with no star, so only sky noise.
    const size = { ccds: 2, width: 512, height: 512 };
    const blank = await ensureSampleExposure({ ...size, id: BLANK, seed: 71, starsPerCcd: 0 });
    const good = await ensureSampleExposure({ ...size, id: GOOD, seed: 72, starsPerCcd: 40 });
    for (const s of [blank, good]) copyFileSync(s.fzPath, pool.root.path(`${ARCHIVE}/CFHT/${s.id}.fits.fz`));
    await pool.root.runOk(["mv", WRAPPER, `${WRAPPER}.inner`]);
    await writeRootFile(pool.root, WRAPPER, readFileSync(join(__dirname, "job-leftovers.sh"), "utf8"), "755");
    for (const f of ["do_catalogue.bash", ...PIPELINE_PARTS]) {
      await pool.ssh(`mkdir -p run && cat > run/${f} && chmod 755 run/${f}`, readFileSync(join(WORKER, f), "utf8")).then(check(`deliver ${f}`));
    }
    await writeRootFile(pool.root, CERT_IN_ROOT, readFileSync(CERT, "utf8"), "755");
    await pool.root.runOk(["bash", CERT_IN_ROOT, `/home/${USER}/run/cadcproxy.pem`, USER]);
    const sub = renderSubmitFile({
      flavor: "c2-7.5gb-30",
      exposuresPerJob: 2,
      environment: { CATALOGUE_DEST: `vos:${USER}/catalogues`, CATALOGUE_PIPELINE: P },
      x509UserProxy: "cadcproxy.pem",
      transferInputFiles: PIPELINE_PARTS,
    });
    await pool.ssh("cat > run/do_catalogue.sub", sub).then(check("deliver the submit file"));
    // What submit.sh --per-job 2 writes: the job's two IDs on one line.
    await pool.ssh("cat > run/queue.txt", `${BLANK} ${GOOD}\n`).then(check("write the queue"));
    const submitted = await pool.ssh("cd run && condor_submit do_catalogue.sub").then(check("condor_submit"));
    cluster = /1 job\(s\) submitted to cluster ([0-9]+)\./.exec(submitted.stdout)?.[1] ?? "";
    if (cluster !== "") ended = await waitForEnd(300_000);
  }, 900_000);

  afterAll(async () => {
    await pool?.stop();
  });

  it("holds the job by the submit file's rule, with exit 7 (check) and the blank exposure named", async () => {
    expect(cluster).toMatch(/^[0-9]+$/);
    expect(ended).toBe(HELD.toString());
    expect(await ad("HoldReasonCode HoldReasonSubCode")).toBe(`${JOB_POLICY} ${EXIT.check}`);
    expect(await ad("HoldReason")).toBe(`do_catalogue exited ${EXIT.check}: ${PIPELINE_EXIT_CODES.get(EXIT.check)} (failed: ${BLANK} check (exit ${EXIT.check}))`);
    expect(await ad("CatalogueFailures")).toBe(`${BLANK} check (exit ${EXIT.check})`);
  });

  it("says in the job's .err why the blank failed and that the other was stored", async () => {
    const err = (await pool.ssh(`cat run/do_catalogue-${cluster}.0.err`).then(check("read the .err"))).stdout;
    expect(err).toContain(`${BLANK}: catalogue check failed, nothing stored: no source with S/N >= 10 on any of the 2 CCDs`);
    expect(err).toContain(`do_catalogue.bash: 2 exposures: ${BLANK} failed check (exit ${EXIT.check}), ${GOOD} stored`);
  });

  it("stores the good exposure's catalogue and nothing of the blank's, not even a part", () => {
    // The listing includes dot files: a half-stored .ID.cat.part-* would show.
    expect(catalogues()).toEqual([`${GOOD}.${P}.cat`]);
    expect(readFileSync(pool.root.path(`${VOSPACE}/${USER}/catalogues/${GOOD}.${P}.cat`), "utf8")).toMatch(/^# canfar-batch /);
    // Both were downloaded; only the good one was ever sent towards VOSpace.
    const calls = cadcCalls();
    for (const id of [BLANK, GOOD]) expect(calls.filter((l) => l.startsWith("cadcget ") && l.includes(`${id}.fits.fz`)), id).toHaveLength(1);
    // What each vcp and vmv named in VOSpace (the job's scratch path holds the first ID too).
    const targets = calls.filter((l) => /^(vcp|vmv) /.test(l)).flatMap((l) => l.split(" ").filter((w) => w.startsWith("vos:")));
    expect(targets.filter((t) => t.includes(GOOD))).not.toEqual([]);
    expect(targets.filter((t) => t.includes(BLANK))).toEqual([]);
  });

  it("leaves nothing of either exposure in the job's scratch at its exit, and HTCondor removes the rest", async () => {
    const lines = readFileSync(pool.root.path(LEFTOVERS_LOG), "utf8").split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    const [args = "", status = "", left = ""] = lines[0].split("|");
    expect(args.split(" ").slice(-2)).toEqual([BLANK, GOOD]);
    expect(status).toBe(EXIT.check.toString());
    const entries = left.split(" ");
    // The listing is of the job's scratch directory: what HTCondor sent with the job is there.
    expect(entries).toEqual(expect.arrayContaining(["do_catalogue.bash", "cadcproxy.pem", ...PIPELINE_PARTS]));
    // The job's work directory (catalogue-FIRST+N.XXXXXX) and anything named for an exposure.
    const parts = new Set(PIPELINE_PARTS);
    expect(entries.filter((e) => !parts.has(e) && (e.startsWith("catalogue-") || e.includes(BLANK) || e.includes(GOOD)))).toEqual([]);
    // HTCondor's own cleanup of the slot may finish a moment after the hold.
    let rest = "";
    for (let i = 0; i < 20; i++) {
      rest = (await pool.root.runOk(["find", EXECUTE, "-mindepth", "1"])).stdout;
      if (rest === "") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(rest).toBe("");
  });
});
