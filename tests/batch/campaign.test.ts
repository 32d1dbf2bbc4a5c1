import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { VALID_RAW } from "../fixtures/stack-config";
import { provenance, readCatalogue, readStars, starRecovery } from "../pipeline/support";
import { ensureSampleExposure, type CachedExposure } from "../../tools/fits/sample-cache";
import type { ExecResult } from "../../harness/exec";
import { missing } from "../support/requirements";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { campaignRunFiles, pipelineIdentityStandIn, type CampaignRun } from "./campaign-files";
import { ARCHIVE, HtcondorPool, SUBMIT_VOS_LOG, VOSPACE } from "../../harness/htcondor-pool";

// A campaign on the real HTCondor pool (Debian 13 htcondor, real condor_submit behind the
// canfar_submit double, do_catalogue.bash run by HTCondor, over real SSH), submission after
// submission as `pulumi up` would make them: (a) the first queues all; (b) 2 IDs added queue
// exactly those; (c) a new image with the same pipeline queues nothing; (d) a changed
// catalogue.param (a new pipeline identity) re-queues all, each catalogue's header naming it;
// (f) policy `missing` after that queues nothing; (e) a job held on a missing exposure, the
// exposure then made available: a new submission queues only it and removes the held job, so
// no release can do the work twice; (g) a submission while the jobs of another are still idle
// queues none of them again. campaign.sh's view is read along the way.
const USER = VALID_RAW.cadcUser ?? "astronomer";
const PASSWORD = VALID_RAW.cadcPassword ?? "";
const FLAVOR = "c2-7.5gb-30";
const DEST = `vos:${USER}/catalogues`;
const FIRST = ["2100001p", "2100002p", "2100003p"];
const ADDED = ["2100004p", "2100005p"];
const ALL = [...FIRST, ...ADDED];
const LATE = "2100006p";
const INSTALLED = "/usr/local/share/canfar-batch/pipeline";
const SCRIPTS: Record<string, string> = {
  "do_catalogue.bash": "provisioning/worker/do_catalogue.bash",
  ...Object.fromEntries(PIPELINE_PARTS.map((p) => [p, `provisioning/worker/${p}`])),
  "submit.sh": "provisioning/batch-host/submit.sh",
  "campaign.sh": "provisioning/batch-host/campaign.sh",
  "campaign-jobs.sh": "provisioning/batch-host/campaign-jobs.sh",
  "cli.sh": "provisioning/lib/cli.sh",
  "cadc-credentials.sh": "provisioning/shared/cadc-credentials.sh",
};
const REPO = resolve(__dirname, "../..");
const PARAM = readFileSync(join(REPO, "provisioning/worker/catalogue.param"), "utf8");
/** A column catalogue.param does not ask for (FWHM_IMAGE, issue 25's, now does). */
const NEW_COLUMN = "FLUX_RADIUS";
/** The changed catalogue.param of (d): one more column. */
const PARAM_D = `${PARAM.trimEnd()}\n${NEW_COLUMN}\n`;
/** Another change, for (f): never installed, only its identity is submitted. */
const PARAM_F = `${PARAM.trimEnd()}\nTHETA_IMAGE\n`;

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "fpack"], root: true });

interface Submitted {
  result: ExecResult;
  json: { cluster: string | null; jobs: number; total: number; done: number; inFlight: number; pipeline: string; runDir: string };
  runDir: string;
}

describe.skipIf(why)("a campaign converging on a real HTCondor pool, submission after submission", () => {
  let pool: HtcondorPool;
  let versions: string[];
  const samples = new Map<string, CachedExposure>();
  const steps: Record<string, Submitted> = {};
  let p1 = "";
  let p2 = "";
  let p3 = "";

  const catalogues = () => readdirSync(pool.root.path(`${VOSPACE}/${USER}/catalogues`)).sort();
  const starts = (id: string) => pool.jobStarts().filter((s) => s.args.split(" ").pop() === id).length;
  const cadcgets = (id: string) =>
    readFileSync(pool.root.path("/var/log/canfar-test/cadc.log"), "utf8").split("\n").filter((l) => l.startsWith("cadcget") && l.includes(`${id}.fits.fz`)).length;
  const archive = (id: string) => {
    const s = samples.get(id);
    if (s === undefined) throw new Error(`no sample for ${id}`);
    copyFileSync(s.fzPath, join(pool.root.path(`${ARCHIVE}/CFHT`), `${id}.fits.fz`));
  };

  /**
   * One `pulumi up`'s batch steps, as the program declares them: the run directory
   * canfar-batch/runs/survey-HASH gets the scripts and the campaign's files (the seam:
   * campaignRunFiles), a fresh certificate, then submit.sh with the campaign's options;
   * then, unless `wait` is false, until its jobs are done or held.
   */
  async function up(run: CampaignRun, policy = "changed", wait = true): Promise<Submitted> {
    const files: Record<string, string> = {
      ...Object.fromEntries(Object.entries(SCRIPTS).map(([name, path]) => [name, readFileSync(join(REPO, path), "utf8")])),
      ...campaignRunFiles(run),
    };
    const hash = createHash("sha256").update(JSON.stringify([run, policy, files])).digest("hex").slice(0, 12);
    const runDir = `canfar-batch/runs/survey-${hash}`;
    for (const [name, text] of Object.entries(files)) {
      const r = await pool.ssh(`umask 077 && mkdir -p ${runDir} && cat > ${runDir}/${name}`, text);
      if (r.code !== 0) throw new Error(`delivering ${name} failed: ${r.stderr}`);
    }
    const cert = await pool.ssh(`bash ${runDir}/cadc-credentials.sh --user ${USER} --cert-days 10 --cert-only ${runDir}/cadcproxy.pem`, `${PASSWORD}\n`);
    if (cert.code !== 0) throw new Error(`certificate failed: ${cert.stderr}`);
    const result = await pool.ssh(
      `bash ${runDir}/submit.sh --run-dir ${runDir} --mode csv2 --image ${run.image} --dest ${run.dest} --pipeline ${run.pipeline} --policy ${policy} --proxy cadcproxy.pem --min-valid 3600`,
    );
    if (result.code !== 0) throw new Error(`submit.sh exited ${result.code}: ${result.stderr}`);
    const json = JSON.parse(result.stdout.trim().split("\n").pop() ?? "") as Submitted["json"];
    if (json.cluster !== null && wait) await settle(json.cluster);
    return { result, json, runDir };
  }

  /** Waits until no job of the cluster is idle or running (done, or held). */
  async function settle(cluster: string): Promise<void> {
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const q = await pool.root.runOk(["condor_q", cluster, "-af", "JobStatus"]);
      if (q.stdout.split("\n").every((s) => s.trim() === "" || s.trim() === "5")) return;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    throw new Error(`cluster ${cluster} did not settle in 300 s`);
  }

  const run = (ids: readonly string[], image: string, pipeline: string): CampaignRun => ({ ids, flavor: FLAVOR, dest: DEST, pipeline, image, x509UserProxy: "cadcproxy.pem" });
  const view = (s: Submitted) => pool.ssh(`bash ${s.runDir}/campaign.sh`);

  beforeAll(async () => {
    const t0 = Date.now();
    const step = (what: string) => console.log(`campaign: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    pool = await HtcondorPool.start({ user: USER, cadc: { user: USER, password: PASSWORD } });
    step("pool ready");
    const v = await pool.root.runOk(["dpkg-query", "-W", "-f", "${Package}=${Version}\\n", "source-extractor", "libcfitsio-bin"]);
    versions = v.stdout.trim().split("\n");
    p1 = pipelineIdentityStandIn(versions);
    p2 = pipelineIdentityStandIn(versions, { "catalogue.param": PARAM_D });
    p3 = pipelineIdentityStandIn(versions, { "catalogue.param": PARAM_F });
    for (const [i, id] of [...ALL, LATE].entries()) {
      samples.set(id, await ensureSampleExposure({ id, ccds: 2, width: 512, height: 512, seed: 100 + i, starsPerCcd: 40 }));
    }
    for (const id of ALL) archive(id);

    steps.a = await up(run(FIRST, "image-a", p1));
    step("(a) done");
    steps.b = await up(run(ALL, "image-a", p1));
    step("(b) done");
    steps.c = await up(run(ALL, "image-c", p1));
    step("(c) done");
    // A new image whose catalogue.param changed: the workers read the installed one.
    await pool.root.runOk(["sh", "-c", `cat > ${INSTALLED}/catalogue.param`], { stdin: PARAM_D });
    steps.d = await up(run(ALL, "image-d", p2));
    step("(d) done");
    steps.f = await up(run(ALL, "image-d", p3), "missing");
    step("(f) done");
    steps.e = await up(run([...ALL, LATE], "image-d", p2));
    step("(e) held");
  }, 1_500_000);

  afterAll(async () => {
    await pool?.stop();
  });

  it("(a) the first submission queues every exposure", () => {
    expect(steps.a.result.stderr).toContain(`queued 3 of 3 (0 already catalogued by pipeline ${p1}, 0 in flight)`);
    expect(steps.a.json).toMatchObject({ jobs: 3, total: 3, done: 0, pipeline: p1 });
    expect(steps.a.json.cluster).toMatch(/^\d+$/);
  });

  it("(b) two exposures added: exactly those two are queued; over (a) to (f) each exposure was downloaded once per pipeline", () => {
    expect(steps.b.result.stderr).toContain(`queued 2 of 5 (3 already catalogued by pipeline ${p1}, 0 in flight)`);
    expect(steps.b.json).toMatchObject({ jobs: 2, total: 5, done: 3 });
    // Once for p1 in (a) or (b), once for p2 in (d); (c) and (f) ran nothing.
    for (const id of ALL) expect(cadcgets(id), id).toBe(2);
  });

  it("(c) a new image, the same pipeline: nothing queued, nothing submitted, success", () => {
    expect(steps.c.result.stderr).toContain(`queued 0 of 5 (5 already catalogued by pipeline ${p1}, 0 in flight)`);
    expect(steps.c.json).toMatchObject({ cluster: null, jobs: 0, total: 5, done: 5 });
  });

  it("(d) catalogue.param changed: all re-queued; each new catalogue names the new pipeline and image and has the new column; the old ones stay", () => {
    expect(p2).not.toBe(p1);
    expect(steps.d.result.stderr).toContain(`queued 5 of 5 (0 already catalogued by pipeline ${p2}, 0 in flight)`);
    expect(steps.d.json).toMatchObject({ jobs: 5, total: 5, done: 0, pipeline: p2 });
    for (const id of ALL) {
      const path = pool.root.path(`${VOSPACE}/${USER}/catalogues/${id}.${p2}.cat`);
      const text = readFileSync(path, "utf8");
      expect(provenance(text), id).toMatchObject({ exposure: id, pipeline: p2, image: "image-d" });
      const cat = readCatalogue(path);
      expect(cat.columns).toContain(NEW_COLUMN);
      const found = starRecovery(cat, readStars(samples.get(id)?.starsPath ?? ""));
      expect(found.found / found.total, id).toBeGreaterThanOrEqual(0.95);
      expect(readCatalogue(pool.root.path(`${VOSPACE}/${USER}/catalogues/${id}.${p1}.cat`)).columns).not.toContain(NEW_COLUMN);
    }
  });

  it("(f) policy missing after (d): another pipeline, yet nothing queued", () => {
    expect(p3).not.toBe(p2);
    expect(steps.f.result.stderr).toContain(`queued 0 of 5 (0 already catalogued by pipeline ${p3}, 0 in flight)`);
    expect(steps.f.result.stderr).toContain("5 have only another pipeline's catalogue (or one made by hand): not queued (policy missing)");
    expect(steps.f.json).toMatchObject({ cluster: null, jobs: 0 });
  });

  it("(e) an exposure added but missing: only it is queued, and it is held; campaign.sh shows it with the command that retries it", async () => {
    expect(steps.e.result.stderr).toContain(`queued 1 of 6 (5 already catalogued by pipeline ${p2}, 0 in flight)`);
    const cluster = steps.e.json.cluster ?? "";
    const held = await pool.root.runOk(["condor_q", cluster, "-af", "JobStatus", "Args"]);
    expect(held.stdout.trim()).toBe(`5 ${LATE}`);
    const v = await view(steps.e);
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`campaign survey: 6 exposures, pipeline ${p2}, catalogues in ${DEST}`);
    expect(v.stdout).toContain("5 done, 0 running, 0 idle, 1 held, 0 not yet submitted");
    expect(v.stdout).toContain(`  ${cluster}.0 ${LATE}: do_catalogue exited 3: download failed (ID.fits.fz missing or unreachable)`);
    expect(v.stdout).toContain(`run just these again with:\n  condor_release ${cluster}\n`);
  });

  it("(e) the exposure made available, a new submission queues only it and removes the held job, which no release can then run twice", async () => {
    // The command campaign.sh prints for the held job.
    const cluster = steps.e.json.cluster ?? "";
    const command = /run just these again with:\n {2}(.+)\n/.exec((await view(steps.e)).stdout)?.[1] ?? "";
    expect(command).toBe(`condor_release ${cluster}`);
    archive(LATE);
    const startsBefore = starts(LATE);
    const again = await up(run([...ALL, LATE], "image-e", p2));
    // Held is not in flight: queued again, and the held job removed once the new cluster was in.
    expect(again.result.stderr).toContain(`queued 1 of 6 (5 already catalogued by pipeline ${p2}, 0 in flight)`);
    expect(again.result.stderr).toContain(`removed held job ${cluster}.0 (${LATE}): queued again in cluster ${again.json.cluster}`);
    expect(catalogues()).toContain(`${LATE}.${p2}.cat`);
    expect(starts(LATE)).toBe(startsBefore + 1);
    // Removed (3) or already gone from the queue: nothing left to release.
    expect(["", "3"]).toContain((await pool.root.runOk(["condor_q", cluster, "-af", "JobStatus"])).stdout.trim());
    const done = await view(again);
    expect(done.stdout).toContain("[##############################] 100%  6 done, 0 running, 0 idle, 0 held, 0 not yet submitted");
    // Each of the 7 submissions and each of the 3 views listed the destination once, with the jobs' certificate.
    const listings = readFileSync(pool.root.path(SUBMIT_VOS_LOG), "utf8").split("\n").filter((l) => l.startsWith("vls "));
    expect(listings.filter((l) => l.endsWith(` ${DEST}`)).length).toBe(7 + 3);
    expect(listings.every((l) => l.startsWith("vls --certfile "))).toBe(true);
  }, 400_000);

  it("leaves the catalogues of every pipeline side by side, never a part", () => {
    expect(catalogues()).toEqual([...ALL.flatMap((id) => [`${id}.${p1}.cat`, `${id}.${p2}.cat`]), `${LATE}.${p2}.cat`].sort());
  });

  it("(g) a submission while the jobs of an earlier one are idle (no slot: the startd is off) queues none of them again", async () => {
    await pool.root.runOk(["condor_off", "-startd"]);
    let first: Submitted | undefined;
    try {
      // The slot's ad gone: nothing can match, the jobs stay idle.
      const deadline = Date.now() + 60_000;
      while ((await pool.root.run(["condor_status", "-af", "Name"])).stdout.trim() !== "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1_000));
      first = await up(run([...ALL, LATE], "image-g", p3), "changed", false);
      expect(first.result.stderr).toContain(`queued 6 of 6 (0 already catalogued by pipeline ${p3}, 0 in flight)`);
      const idle = await pool.root.runOk(["condor_q", first.json.cluster ?? "", "-af", "JobStatus"]);
      expect(idle.stdout.trim().split("\n")).toEqual(Array<string>(6).fill("1"));
      const second = await up(run([...ALL, LATE], "image-h", p3), "changed", false);
      expect(second.result.stderr).toContain(`queued 0 of 6 (0 already catalogued by pipeline ${p3}, 6 in flight)`);
      expect(second.json).toMatchObject({ cluster: null, jobs: 0, inFlight: 6 });
    } finally {
      if (first?.json.cluster) await pool.root.run(["condor_rm", first.json.cluster]);
      await pool.root.run(["condor_on", "-startd"]);
    }
  }, 300_000);
});

// Keep the stand-in honest about what it hashes: a by-hand edit elsewhere changes nothing.
describe("the pipeline identity stand-in", () => {
  it("changes with catalogue.param and the tool versions, not with the worker README", () => {
    const v = ["source-extractor=2.25.0+ds-3", "libcfitsio-bin=4.2.0-3"];
    const base = pipelineIdentityStandIn(v);
    expect(base).toMatch(/^[0-9a-f]{12}$/);
    expect(pipelineIdentityStandIn([...v].reverse())).toBe(base);
    expect(pipelineIdentityStandIn(v, { "catalogue.param": PARAM_D })).not.toBe(base);
    expect(pipelineIdentityStandIn(["source-extractor=2.25.0+ds-4", v[1]])).not.toBe(base);
    expect(pipelineIdentityStandIn(v, { "README.md": "edited" })).toBe(base);
  });
});
