import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialText, parseSubmitOutput } from "../../batch/batch-submission";
import { evaluateProgram } from "../fixtures/evaluate-program";
import { VALID_RAW } from "../fixtures/stack-config";
import { declaredBatch, followRemoteCommand, type DeclaredBatch } from "../../harness/declared-batch";
import { assertPlain, keptStdout } from "../../harness/declared-command";
import { EXIT, readCatalogue, readStars, starRecovery } from "../pipeline/support";
import { ensureSampleExposure, type CachedExposure } from "../../tools/fits/sample-cache";
import type { ExecResult } from "../../harness/exec";
import { missing } from "../support/requirements";
import { createHash } from "node:crypto";
import { ARCHIVE, CADC_CERT_LOG, HtcondorPool, VOSPACE } from "../../harness/htcondor-pool";

// The whole submit path on a real HTCondor pool: the program's declared commands over
// real SSH to the batch host, submit.sh, canfar_submit (a double, as CSV2 and as CSV1) in
// front of the real condor_submit, and do_catalogue.bash run by HTCondor on synthetic
// exposures fetched from the archive stand-in and stored in the VOSpace stand-in.
const USER = VALID_RAW.cadcUser ?? "astronomer";
const PASSWORD = VALID_RAW.cadcPassword ?? "";
const GOOD = ["2000001p", "2000002p", "2000003p"];
const ABSENT = "2000004p";
const CORRUPT = "2000005p";
const IDS = [...GOOD, ABSENT, CORRUPT];
const CSV1_IDS = ["2000006p"];
const HOST = "127.0.0.1";
const CSV1 = {
  openstackAuthUrl: "https://arbutus-canfar.cloud.computecanada.ca:5000/v3",
  openstackProjectName: "my-project",
  openstackProjectId: "0123456789abcdef0123456789abcdef",
};
const HELD = 5; // JobStatus
const JOB_POLICY = 3; // HoldReasonCode: the job's own on_exit_hold

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "fpack"], root: true });

describe.skipIf(why)("the program's batch run on a real HTCondor pool (Debian 13 htcondor on 127.0.0.1)", () => {
  let pool: HtcondorPool;
  let csv2: DeclaredBatch;
  let csv1: DeclaredBatch;
  const samples = new Map<string, CachedExposure>();
  const sample = (id: string): CachedExposure => {
    const s = samples.get(id);
    if (s === undefined) throw new Error(`no sample exposure for ${id}`);
    return s;
  };
  let submitted: ExecResult;
  let cluster = "";
  let followed: ExecResult;

  const catalogues = (dir = `${USER}/catalogues`) => readdirSync(pool.root.path(`${VOSPACE}/${dir}`)).sort();
  const followCmd = (batch: DeclaredBatch, c: string) => `${followRemoteCommand(batch, `ssh ${USER}@${HOST} `, c)} --interval 1 --timeout 300`;

  /** Runs the declared deliveries, the certificate step and the submit command over SSH, as `pulumi up` would. */
  async function deliverAndSubmit(batch: DeclaredBatch, stdin?: string): Promise<ExecResult> {
    for (const d of batch.deliveries) {
      const r = await pool.ssh(assertPlain(d.create, d.name), d.stdin === undefined ? undefined : assertPlain(d.stdin, `${d.name} stdin`));
      if (r.code !== 0) throw new Error(`${d.name} failed (${r.code}): ${r.stderr}`);
    }
    const cert = await pool.ssh(assertPlain(batch.certificate.create, batch.certificate.name), `${PASSWORD}\n`);
    if (cert.code !== 0) throw new Error(`${batch.certificate.name} failed (${cert.code}): ${cert.stderr}`);
    return pool.ssh(assertPlain(batch.submit.create, batch.submit.name), stdin);
  }
  /** The certificates the CADC calls presented, as "TOOL SHA256" lines. */
  const certsUsed = (): string[] => readFileSync(pool.root.path(CADC_CERT_LOG), "utf8").trim().split("\n");
  const sha256Of = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

  beforeAll(async () => {
    const t0 = Date.now();
    const step = (what: string) => console.log(`pool e2e: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // One exposure a job: this test follows each exposure's own job (tests/batch/pool-per-job.test.ts runs several in one).
    csv2 = declaredBatch(await evaluateProgram({ batchHost: HOST, submitMode: "csv2", observationIds: JSON.stringify(IDS), exposuresPerJob: "1" }));
    csv1 = declaredBatch(
      await evaluateProgram({ batchHost: HOST, submitMode: "csv1", observationIds: JSON.stringify(CSV1_IDS), exposuresPerJob: "1", vospace: `vos:${USER}/csv1`, ...CSV1 }),
    );
    step("program evaluated");
    // A csv1 worker booted from the image advertises VMType PROJECT:IMAGE (canfar_batch_init).
    pool = await HtcondorPool.start({ user: USER, vmType: `${CSV1.openstackProjectName}:${csv1.image}`, cadc: { user: USER, password: PASSWORD } });
    step("pool ready");

    // The generator behind `npm run sample-image`, small CCDs, cached between runs.
    for (const [i, id] of [...IDS, ...CSV1_IDS].entries()) {
      samples.set(id, await ensureSampleExposure({ id, ccds: 2, width: 512, height: 512, seed: i + 1, starsPerCcd: 40 }));
    }
    const archive = pool.root.path(`${ARCHIVE}/CFHT`);
    for (const id of [...GOOD, ...CSV1_IDS]) copyFileSync(sample(id).fzPath, join(archive, `${id}.fits.fz`));
    // Cut short, as an interrupted transfer leaves it: funpack reads it without complaint.
    const whole = readFileSync(sample(CORRUPT).fzPath);
    writeFileSync(join(archive, `${CORRUPT}.fits.fz`), whole.subarray(0, Math.floor(whole.length / 2)));

    step("exposures written");
    submitted = await deliverAndSubmit(csv2);
    step("submitted");
    if (submitted.code === 0) {
      cluster = parseSubmitOutput(keptStdout(submitted.stdout)).cluster ?? "none";
      followed = await pool.ssh(followCmd(csv2, cluster));
      step("run followed to its end");
    }
  }, 900_000);

  afterAll(async () => {
    await pool?.stop();
  });

  it("submits the program's run through canfar_submit (csv2) and the real condor_submit", () => {
    expect(submitted.stderr).not.toMatch(/error/i);
    expect(submitted.code).toBe(0);
    expect(parseSubmitOutput(keptStdout(submitted.stdout))).toEqual({ cluster, jobs: IDS.length, total: IDS.length, done: 0, pipeline: csv2.pipeline, runDir: `/home/${USER}/${csv2.runDir}` });
  });

  it("gives each job the image, the requests and the hold policy of the rendered submit file", async () => {
    // Only the two failed jobs are still queued (held); the ads are the same for all.
    const ads = await pool.root.runOk(["condor_q", cluster, "-af", "VMImage", "RequestCpus", "RequestMemory", "OnExitHold"]);
    expect(ads.stdout.trim().split("\n")).toEqual([`${csv2.image} 2 6528 true`, `${csv2.image} 2 6528 true`]);
    // Unevaluated (-af:r): the requirement canfar_submit (csv2) put in front of the file.
    const requirements = await pool.root.runOk(["condor_q", cluster, "-af:r", "Requirements"]);
    expect(requirements.stdout).toContain('group_name =?= "canfar"');
  });

  it("follow.sh stops on the held jobs, naming their IDs, reasons and the command that retries them", () => {
    expect(followed.stdout).toContain(`cluster ${cluster}: 0 idle, 0 running, 3 done, 2 held of 5`);
    expect(followed.code).toBe(4);
    expect(followed.stderr).toContain(`  ${cluster}.3 ${ABSENT}: do_catalogue exited 3: download failed (ID.fits.fz missing or unreachable)`);
    expect(followed.stderr).toContain(`  ${cluster}.4 ${CORRUPT}: do_catalogue exited 4: decompression failed (funpack: corrupt or not a FITS file)`);
    expect(followed.stderr).toContain(`run just these jobs again with:\n  condor_release ${cluster}\n`);
  });

  it("each job downloads and uploads with the certificate its submission made, and no home holds a password or certificate", async () => {
    const made = sha256Of(pool.root.path(`/home/${USER}/${csv2.runDir}/cadcproxy.pem`));
    // The CADC stand-ins refuse a call without a valid certificate: every call presented one.
    const used = certsUsed();
    expect(used.filter((l) => l.endsWith(" none"))).toEqual([]);
    const tools = new Set(used.map((l) => l.split(" ")[0]));
    // vls: each job first asks whether its exposure is already catalogued by its pipeline.
    expect([...tools].sort()).toEqual(["cadcget", "vcp", "vls", "vmv"]);
    // HTCondor hands the job its own copy (x509userproxy), byte for byte the one the submission made.
    const shas = new Set(used.map((l) => l.split(" ")[1]));
    expect([...shas]).toEqual([made]);
    for (const s of pool.jobStarts()) expect(s.proxy, s.args).toMatch(new RegExp(`^${s.scratch}/cadcproxy\\.pem$`));
    // The execute side's home: no ~/.netrc, no ~/.ssl certificate; no file holds the password.
    expect(readdirSync(pool.root.path(`/home/${USER}`))).not.toContain(".netrc");
    expect(readdirSync(pool.root.path(`/home/${USER}`))).not.toContain(".ssl");
    const leaked = await pool.root.run(["grep", "-rlF", "--", PASSWORD, `/home/${USER}`, "/tmp", "/var/tmp", "/var/lib/condor"]);
    expect(leaked.stdout).toBe("");
  });

  it("holds exactly the failed jobs with the pipeline's exit code, and completes the others with 0", async () => {
    const held = await pool.root.runOk(["condor_q", cluster, "-af", "ProcId", "JobStatus", "HoldReasonCode", "HoldReasonSubCode"]);
    expect(held.stdout.trim().split("\n").sort()).toEqual([`3 ${HELD} ${JOB_POLICY} ${EXIT.download}`, `4 ${HELD} ${JOB_POLICY} ${EXIT.unpack}`]);
    const done = await pool.root.runOk(["condor_history", cluster, "-af", "ProcId", "JobStatus", "ExitCode"]);
    expect(done.stdout.trim().split("\n").sort()).toEqual(["0 4 0", "1 4 0", "2 4 0"]);
  });

  it("condor_wait sees each good job's log end, and times out on a held job's", async () => {
    for (const id of GOOD) {
      const r = await pool.ssh(`condor_wait -wait 30 ${csv2.runDir}/do_catalogue-${id}.log`);
      expect(r.stdout, id).toContain("All jobs done.");
      expect(r.code, id).toBe(0);
    }
    const held = await pool.ssh(`condor_wait -wait 2 ${csv2.runDir}/do_catalogue-${ABSENT}.log`);
    expect(held.stdout).toContain("Time expired.");
    expect(held.code).not.toBe(0);
  });

  it("stores whole catalogues of the good exposures only, each finding the injected stars", () => {
    expect(catalogues()).toEqual(GOOD.map((id) => `${id}.${csv2.pipeline}.cat`));
    for (const id of GOOD) {
      const cat = readCatalogue(pool.root.path(`${VOSPACE}/${USER}/catalogues/${id}.${csv2.pipeline}.cat`));
      const r = starRecovery(cat, readStars(sample(id).starsPath));
      expect(r.total, id).toBeGreaterThan(20);
      expect(r.found / r.total, id).toBeGreaterThanOrEqual(0.95);
    }
  });

  it("writes each job's .out, .err and .log into the run directory, as the submit file says", () => {
    const run = pool.root.path(`/home/${USER}/${csv2.runDir}`);
    const files = readdirSync(run);
    for (const id of IDS) for (const ext of ["out", "err", "log"]) expect(files).toContain(`do_catalogue-${id}.${ext}`);
    expect(readFileSync(join(run, `do_catalogue-${GOOD[0]}.err`), "utf8")).toContain(`stored vos:${USER}/catalogues/${GOOD[0]}.${csv2.pipeline}.cat`);
    expect(readFileSync(join(run, `do_catalogue-${ABSENT}.err`), "utf8")).toContain(`download of cadc:CFHT/${ABSENT}.fits.fz failed`);
    expect(readFileSync(join(run, `do_catalogue-${CORRUPT}.err`), "utf8")).toContain("truncated");
    expect(readFileSync(join(run, `do_catalogue-${ABSENT}.log`), "utf8")).toContain("Job was held");
  });

  it("ran every job in its own _CONDOR_SCRATCH_DIR with the slot's two CPUs, and left nothing behind", async () => {
    const starts = pool.jobStarts();
    expect(starts.map((s) => s.args.split(" ").pop()).sort()).toEqual([...IDS].sort());
    for (const s of starts) {
      expect(s.scratch).toMatch(/^\/var\/lib\/condor\/execute\/dir_[0-9]+$/);
      expect(s.cwd).toBe(s.scratch);
      expect(s.threads).toBe("2");
    }
    expect(new Set(starts.map((s) => s.scratch)).size).toBe(IDS.length);
    const left = await pool.root.runOk(["find", "/var/lib/condor/execute", "-mindepth", "1"]);
    expect(left.stdout).toBe("");
  });

  it("runs just the failed jobs again with the printed command, once the archive is fixed", async () => {
    const archive = pool.root.path(`${ARCHIVE}/CFHT`);
    for (const id of [ABSENT, CORRUPT]) copyFileSync(sample(id).fzPath, join(archive, `${id}.fits.fz`));
    const command = /run just these jobs again with:\n {2}(.+)\n/.exec(followed.stderr)?.[1] ?? "";
    expect(command).toBe(`condor_release ${cluster}`);
    const released = await pool.ssh(command);
    expect(released.code).toBe(0);
    const again = await pool.ssh(followCmd(csv2, cluster));
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`cluster ${cluster}: all 5 job(s) done, exit code 0`);
    expect(catalogues()).toEqual(IDS.map((id) => `${id}.${csv2.pipeline}.cat`).sort());
    // Three jobs ran once, the two released ones twice: nothing that had succeeded ran again.
    const ran = pool.jobStarts().map((s) => s.args.split(" ").pop() ?? "");
    expect(ran.sort()).toEqual([...IDS, ABSENT, CORRUPT].sort());
  }, 400_000);

  it("csv1: canfar_submit's VMType requirement matches a worker of that image, and the job runs", async () => {
    await pool.configureSubmit("csv1", [csv1.image]);
    await pool.root.runOk(["install", "-d", "-o", USER, "-g", USER, `${VOSPACE}/${USER}/csv1`]);
    const credentials = credentialText({
      authUrl: CSV1.openstackAuthUrl,
      projectName: CSV1.openstackProjectName,
      projectId: CSV1.openstackProjectId,
      username: USER,
      password: PASSWORD,
    });
    expect(csv1.submit.stdin).toBe("[secret]");
    const r = await deliverAndSubmit(csv1, credentials);
    expect(r.code, r.stderr).toBe(0);
    const c = parseSubmitOutput(keptStdout(r.stdout)).cluster ?? "none";
    const followedCsv1 = await pool.ssh(followCmd(csv1, c));
    expect(followedCsv1.stdout).toContain(`cluster ${c}: all 1 job(s) done, exit code 0`);
    expect(followedCsv1.code).toBe(0);
    const ad = await pool.root.runOk(["condor_history", c, "-af:r", "Requirements", "VMAMI", "VMInstanceType"]);
    expect(ad.stdout).toContain(`VMType =?= "${CSV1.openstackProjectName}:${csv1.image}"`);
    expect(ad.stdout).toMatch(/"canfar:[0-9a-f-]{36}" "canfar:[0-9a-f-]{36}"/);
    expect(readdirSync(pool.root.path(`${VOSPACE}/${USER}/csv1`))).toEqual([`${CSV1_IDS[0]}.${csv1.pipeline}.cat`]);
  }, 400_000);
});
