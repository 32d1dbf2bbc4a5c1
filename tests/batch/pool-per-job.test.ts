import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { writeRootFile } from "../../harness/root-files";
import { ensureSampleExposure, type CachedExposure } from "../../tools/fits/sample-cache";
import { missing } from "../support/requirements";
import type { ExecResult } from "../../harness/exec";
import { ARCHIVE, HtcondorPool, VOSPACE } from "../../harness/htcondor-pool";

// Three exposures in one job on a real HTCondor pool (Debian 13 htcondor on 127.0.0.1): the
// middle one missing from the archive, the job stores the other two and ends held naming it
// with its class; once it is there, a release processes only it.
const USER = "astronomer";
const IDS = ["2300011p", "2300012p", "2300013p"];
const MISSING = IDS[1];
const P = "0123456789ab";
const HELD = 5;
const WORKER = resolve(__dirname, "..", "..", "provisioning", "worker");
const CERT = resolve(__dirname, "..", "..", "tools", "test-certificate.sh");
const CERT_IN_ROOT = "/usr/local/libexec/canfar-test/test-certificate.sh";

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen", "fpack"], root: true });

describe.skipIf(why)("a job of three exposures on a real HTCondor pool", () => {
  let pool: HtcondorPool;
  const samples: CachedExposure[] = [];
  let cluster = "";
  const check = (what: string) => (r: ExecResult) => {
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  const stored = () => readdirSync(pool.root.path(`${VOSPACE}/${USER}/catalogues`)).sort();
  const downloads = (): string[] =>
    readFileSync(pool.root.path("/var/log/canfar-test/cadc.log"), "utf8").split("\n").filter((l) => l.startsWith("cadcget ")).map((l) => /([0-9]+[a-z])\.fits\.fz/.exec(l)?.[1] ?? l);
  async function waitFor(status: number, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const q = await pool.ssh(`condor_q ${cluster} -af JobStatus HoldReason; condor_history ${cluster} -af JobStatus ExitCode`);
      const line = q.stdout.trim().split("\n")[0] ?? "";
      if (line.startsWith(`${status} `) || line === `${status}`) return q.stdout;
      if (Date.now() > end) throw new Error(`job ${cluster} not in status ${status} after ${timeoutMs} ms: ${q.stdout} ${q.stderr}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    pool = await HtcondorPool.start({ user: USER, cadc: { user: USER, password: "unused-here" } });
    for (const [i, id] of IDS.entries()) samples.push(await ensureSampleExposure({ id, ccds: 2, width: 512, height: 512, seed: 30 + i, starsPerCcd: 40 }));
    for (const [i, id] of IDS.entries()) if (id !== MISSING) copyFileSync(samples[i].fzPath, pool.root.path(`${ARCHIVE}/CFHT/${id}.fits.fz`));
    for (const f of ["do_catalogue.bash", ...PIPELINE_PARTS]) {
      await pool.ssh(`mkdir -p run && cat > run/${f} && chmod 755 run/${f}`, readFileSync(join(WORKER, f), "utf8")).then(check(`deliver ${f}`));
    }
    await writeRootFile(pool.root, CERT_IN_ROOT, readFileSync(CERT, "utf8"), "755");
    await pool.root.runOk(["bash", CERT_IN_ROOT, `/home/${USER}/run/cadcproxy.pem`, USER]);
    const sub = renderSubmitFile({
      flavor: "c2-7.5gb-30",
      exposuresPerJob: 3,
      environment: { CATALOGUE_DEST: `vos:${USER}/catalogues`, CATALOGUE_PIPELINE: P },
      x509UserProxy: "cadcproxy.pem",
      transferInputFiles: PIPELINE_PARTS,
    });
    await pool.ssh("cat > run/do_catalogue.sub", sub).then(check("deliver the submit file"));
    // What submit.sh --per-job 3 writes: the job's three IDs on one line.
    await pool.ssh("cat > run/queue.txt", `${IDS.join(" ")}\n`).then(check("write the queue"));
    const submitted = await pool.ssh("cd run && condor_submit do_catalogue.sub").then(check("condor_submit"));
    cluster = /1 job\(s\) submitted to cluster ([0-9]+)\./.exec(submitted.stdout)?.[1] ?? "";
  }, 900_000);

  afterAll(async () => {
    await pool?.stop();
  });

  it("stores the other two and holds the job naming the missing exposure with class download", async () => {
    expect(cluster).toMatch(/^[0-9]+$/);
    const q = await waitFor(HELD, 300_000);
    expect(q).toContain(`do_catalogue exited 3: download failed`);
    expect(q).toContain(`(failed: ${MISSING} download (exit 3))`);
    expect(stored()).toEqual([`${IDS[0]}.${P}.cat`, `${IDS[2]}.${P}.cat`]);
    const err = (await pool.ssh(`cat run/do_catalogue-${cluster}.0.err`)).stdout;
    expect(err).toContain(`failed: ${MISSING} download (exit 3)`);
  }, 400_000);

  it("after the exposure is made available and the job released, processes only it", async () => {
    copyFileSync(samples[1].fzPath, pool.root.path(`${ARCHIVE}/CFHT/${MISSING}.fits.fz`));
    const before = downloads().length;
    await pool.ssh(`condor_release ${cluster}`).then(check("condor_release"));
    const done = await waitFor(4, 300_000);
    expect(done.trim().split("\n").pop()).toBe("4 0");
    expect(stored()).toEqual(IDS.map((id) => `${id}.${P}.cat`));
    expect(downloads().slice(before)).toEqual([MISSING]);
  }, 400_000);
});
