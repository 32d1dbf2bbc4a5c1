/**
 * npm run bench:batch -- [--exposures N] [--ccds N] [--seed N]
 *
 * Sends N synthetic exposures through a real one-host HTCondor pool (the test pool of
 * harness/htcondor-pool.ts, as root) and prints exposures per minute and the ratio to
 * running do_catalogue.bash N times back to back in the same root without HTCondor: what
 * the scheduler itself costs. The pool's slot is one c2-7.5gb-30 worker (2 CPUs), so jobs
 * run one after the other with both cores each, as on one CANFAR worker.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { QUEUE_FILE, renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { writeRootFile } from "../../harness/root-files";
import { ensureSampleExposure } from "../fits/sample-cache";
import { wholeNumberOption } from "../whole-number-option";
import { WORKER_DIR } from "../../provisioning/scripts";
import { benchSelfHostedPool } from "./batch-pool";
import { measureThroughput, throughputTable } from "./throughput";
import { ARCHIVE, HtcondorPool, VOSPACE } from "../../harness/htcondor-pool";

const USAGE = `usage: npm run bench:batch -- [--exposures N] [--ccds N] [--seed N] [--pool one-host|self-hosted]
       npm run bench:batch -- --throughput [--bandwidth BYTES_PER_S] [--latency S] [--ccds N]
                               [--height PX] [--scheduler-seconds S]

Runs N copies of one synthetic exposure of N full-size (2048x4612) CCDs (made once and
cached, as for bench:pipeline) through do_catalogue.bash twice, inside a throwaway Debian 13
root: back to back from a shell, then as N jobs of one cluster on a real HTCondor pool on
127.0.0.1. Each job is timed by tools/bench/batch-job.sh on both sides. Prints exposures
per minute of each, the ratio pool / back to back, and where the pool's extra time goes
(to the first job, between jobs, in the jobs, to the history).

  --exposures N   jobs in the cluster (default 4)
  --ccds N        CCDs per exposure (default 36)
  --seed N        generator seed (default 1)
  --pool KIND     one-host (default): the one-host test pool above; self-hosted: the pool of
                  your own HTCondor pool's test (a submit node and two workers, each a root
                  configured by the pool's user-data), against back to back on one worker;
                  prints the scheduler's cost per job
  --help          this text

  --throughput    instead: exposures per minute on one worker (locally, as a job runs on it)
                  for 1, 4 and 8 exposures per job, each against 1 per job and against
                  its bound (min(D,E) + K max(D,E)) / K per exposure, D and E one
                  exposure's download and extraction measured first in the same run;
                  the CADC stand-ins run at --bandwidth bytes/s (default: the exposure's
                  size / E, so that D is about E) with --latency s a call (default 0.5)
  --height PX     CCD height of the synthetic exposure (default 4612: full size)
  --scheduler-seconds S  the scheduler's cost per job, shared by the job's exposures
                  (default 1.2: the one-host pool bench's time between one job's end
                  and the next one's start, 1.1 s on 2026-12-04)

Needs root, debootstrap (the root is built and cached on first use), funpack and fpack.
The test pool negotiates every 2 s; a CANFAR pool also boots worker VMs, which this leaves out.`;

const USER = "bench";
const FLAVOR = "c2-7.5gb-30";
const WORKER = WORKER_DIR;
const JOB = resolve(__dirname, "batch-job.sh");
/** A day's self-signed certificate and key in one file, owned by the user: what cadc-get-cert leaves. */
const CERT = resolve(__dirname, "..", "test-certificate.sh");
const CERT_IN_ROOT = "/usr/local/libexec/canfar-test/test-certificate.sh";

function say(line: string): void {
  process.stderr.write(`bench-batch: ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      exposures: { type: "string" }, ccds: { type: "string" }, seed: { type: "string" }, pool: { type: "string" }, help: { type: "boolean" },
      throughput: { type: "boolean" }, bandwidth: { type: "string" }, latency: { type: "string" }, height: { type: "string" }, "scheduler-seconds": { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const int = (name: string, v: string | undefined, d: number, min: number) => wholeNumberOption("bench-batch", USAGE, name, v, d, min);
  const n = int("exposures", values.exposures, 4, 1);
  const ccds = int("ccds", values.ccds, 36, 1);
  const seed = int("seed", values.seed, 1, 0);
  if (values.throughput) {
    const seconds = (name: string, v: string | undefined, d: number): number => {
      if (v === undefined) return d;
      if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) {
        process.stderr.write(`bench-batch: --${name} must be a number of seconds, got '${v}'\n${USAGE}\n`);
        process.exit(2);
      }
      return Number(v);
    };
    const bandwidth = values.bandwidth === undefined ? undefined : int("bandwidth", values.bandwidth, 0, 1);
    const height = int("height", values.height, 4612, 16);
    const scheduler = seconds("scheduler-seconds", values["scheduler-seconds"], 1.2);
    const sample = await ensureSampleExposure({ ccds, width: 2048, height, seed }, say);
    const result = measureThroughput({
      fzPath: sample.fzPath,
      bandwidth,
      latency: seconds("latency", values.latency, 0.5),
      perJob: [1, 4, 8],
      // One job of K (8 for K = 1, 4: two jobs of 4 would add nothing new); 1 per job twice.
      exposures: (k) => (k === 1 ? 2 : k),
      schedulerSecondsPerJob: scheduler,
      log: say,
    });
    process.stdout.write(`${throughputTable(result, scheduler, values["scheduler-seconds"] === undefined ? "the pool bench's earlier measurement" : "given")}\n`);
    process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs\n`);
    return;
  }
  const kind = values.pool ?? "one-host";
  if (kind !== "one-host" && kind !== "self-hosted") {
    process.stderr.write(`bench-batch: --pool '${kind}': expected one-host or self-hosted\n${USAGE}\n`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench-batch: needs root (it mounts a throwaway Debian root and runs HTCondor in it)\n");
    process.exit(2);
  }
  if (kind === "self-hosted") {
    await benchSelfHostedPool({ n, ccds, seed, say });
    return;
  }
  const sample = await ensureSampleExposure({ ccds, width: 2048, height: 4612, seed }, say);
  const ids = Array.from({ length: n }, (_, i) => `${3_000_001 + i}p`);

  say("starting the HTCondor pool");
  // The cadc-get-cert stand-in is not used here: the bench makes its certificate itself.
  const pool = await HtcondorPool.start({ user: USER, cadc: { user: USER, password: "unused-by-the-bench" } });
  try {
    // One copy of the exposure in the archive stand-in; each ID is a link to it.
    copyFileSync(sample.fzPath, pool.root.path(`${ARCHIVE}/CFHT/sample.fits.fz`));
    for (const id of ids) await pool.root.runOk(["ln", "-sf", "sample.fits.fz", `${ARCHIVE}/CFHT/${id}.fits.fz`]);
    const dest = (run: string) => `vos:${USER}/${run}`;
    await pool.root.runOk(["install", "-d", "-o", USER, "-g", USER, `${VOSPACE}/${USER}/serial`, `${VOSPACE}/${USER}/pool`, `${VOSPACE}/${USER}/warm-up`]);
    const home = `/home/${USER}`;
    // The pipeline with the parts it sources from its own directory, and the timed job.
    const delivered = [...["do_catalogue.bash", ...PIPELINE_PARTS].map((f) => [f, readFileSync(resolve(WORKER, f), "utf8")]), ["bench-batch-job.sh", readFileSync(JOB, "utf8")]];
    for (const [file, text] of delivered) {
      await pool.ssh(`mkdir -p serial pool && cat > ${file} && chmod 755 ${file}`, text).then(check(`deliver ${file}`));
    }
    // The jobs carry a certificate as the program's submissions do (the CADC stand-ins want one).
    await writeRootFile(pool.root, CERT_IN_ROOT, readFileSync(CERT, "utf8"), "755");
    await pool.root.runOk(["bash", CERT_IN_ROOT, `${home}/cadcproxy.pem`, USER]);
    const jobEnv = (run: string) => ({ CATALOGUE_DEST: dest(run), BENCH_PIPELINE: `${home}/do_catalogue.bash`, BENCH_TIMES: `${home}/${run}-times.log` });

    // Back to back: the worker's environment (what the pool's job wrapper sets), no scheduler.
    // A first, untimed run warms the page cache with the exposure for both variants.
    const runOnce = async (id: string, run: string): Promise<void> => {
      const r = await pool.root.run(["/usr/local/libexec/canfar-test/job-wrapper", `${home}/bench-batch-job.sh`, id], {
        user: USER,
        cwd: `${home}/serial`,
        env: { ...jobEnv(run), _CONDOR_SCRATCH_DIR: `${home}/serial`, X509_USER_PROXY: `${home}/cadcproxy.pem` },
        timeoutMs: 600_000,
      });
      if (r.code !== 0) throw new Error(`do_catalogue.bash ${id} exited ${r.code}: ${r.stderr}`);
    };
    say("warm-up run");
    await runOnce(ids[0] ?? "", "warm-up");
    const load = loadavg()[0];
    const serialStart = Date.now();
    for (const [i, id] of ids.entries()) {
      await runOnce(id, "serial");
      say(`back to back: ${i + 1}/${n} done`);
    }
    const serial = (Date.now() - serialStart) / 1000;

    // The pool: the program's submit file for these IDs (the timed job in front of the
    // pipeline), submitted as one cluster.
    const sub = renderSubmitFile({ flavor: FLAVOR, executable: "../bench-batch-job.sh", environment: jobEnv("pool"), x509UserProxy: "../cadcproxy.pem" });
    await pool.ssh("cat > pool/do_catalogue.sub", sub).then(check("deliver the submit file"));
    // What submit.sh writes: one job a line.
    await pool.ssh(`cat > pool/${QUEUE_FILE}`, `${ids.join("\n")}\n`).then(check("deliver the queue file"));
    const poolStart = Date.now();
    const submitted = await pool.ssh("cd pool && condor_submit do_catalogue.sub");
    check("condor_submit")(submitted);
    const cluster = /submitted to cluster ([0-9]+)\./.exec(submitted.stdout)?.[1];
    if (cluster === undefined) throw new Error(`no cluster in: ${submitted.stdout}`);
    let done = 0;
    while (done < n) {
      await new Promise((r) => setTimeout(r, 250));
      const h = await pool.root.runOk(["condor_history", cluster, "-af", "ExitCode"]);
      const codes = h.stdout.split("\n").filter((l) => l !== "");
      if (codes.some((c) => c !== "0")) throw new Error(`a job failed: exit codes ${codes.join(" ")}`);
      const held = await pool.root.runOk(["condor_q", cluster, "-hold", "-af", "HoldReason"]);
      if (held.stdout.trim() !== "") throw new Error(`jobs held: ${held.stdout}`);
      if (codes.length !== done) say(`pool: ${codes.length}/${n} done`);
      done = codes.length;
    }
    const viaPool = (Date.now() - poolStart) / 1000;

    const times = (run: string) => jobTimes(readFileSync(pool.root.path(`${home}/${run}-times.log`), "utf8"));
    const s = times("serial");
    const p = times("pool");
    const perMinute = (t: number) => ((n * 60) / t).toFixed(2);
    const gap = n > 1 ? (p.last - p.first - p.busy) / (n - 1) : 0;
    process.stdout.write(
      `exposures: ${n} x ${ccds} CCDs of 2048x4612, one ${FLAVOR}-like slot (2 CPUs), ${cpus().length} cores, load average ${load.toFixed(1)} before\n` +
        `back to back  ${serial.toFixed(1)} s  ${perMinute(serial)} exposures/min  (a job ${(s.busy / n).toFixed(1)} s)\n` +
        `HTCondor pool ${viaPool.toFixed(1)} s  ${perMinute(viaPool)} exposures/min  (a job ${(p.busy / n).toFixed(1)} s)\n` +
        `ratio pool / back to back: ${(viaPool / serial).toFixed(2)}\n` +
        `the pool's extra time: ${(p.first - poolStart / 1000).toFixed(1)} s from condor_submit to the first job, ` +
        `${gap.toFixed(1)} s between one job's end and the next one's start, ` +
        `${((p.busy - s.busy) / n).toFixed(1)} s longer jobs on average, ` +
        `${(poolStart / 1000 + viaPool - p.last).toFixed(1)} s from the last job's end to its record in the history\n`,
    );
  } finally {
    await pool.stop();
  }
}

/** First start, last end and summed run time of the jobs in a bench-batch-job.sh log. */
function jobTimes(log: string): { first: number; last: number; busy: number } {
  const rows = log.split("\n").filter((l) => l !== "").map((l) => l.split(" ").map(Number));
  return {
    first: Math.min(...rows.map((r) => r[0] ?? 0)),
    last: Math.max(...rows.map((r) => r[1] ?? 0)),
    busy: rows.reduce((a, r) => a + (r[1] ?? 0) - (r[0] ?? 0), 0),
  };
}

function check(what: string): (r: { code: number | null; stderr: string }) => void {
  return (r) => {
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  };
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-batch: ${(e as Error).message}\n`);
  process.exit(1);
});
