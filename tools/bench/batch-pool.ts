/**
 * `npm run bench:batch -- --pool self-hosted`: N exposures through the self-hosted pool of
 * harness/self-hosted-pool.ts (a submit node and two workers, Debian 13 roots on
 * 127.0.10.x configured by the pool's user-data), against the same jobs back to back on one
 * worker without HTCondor. Both workers share this machine's cores, so the pool's wall time
 * is not a speed-up figure; what it measures is the scheduler's cost per job: from
 * condor_submit to the first start, from a job's end to the next start on the same worker,
 * and how much longer a job takes under HTCondor.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { QUEUE_FILE, renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { ensureSampleExposure } from "../fits/sample-cache";
import { renderPoolUserData, type PoolRole } from "../../pool/user-data";
import { makeSharedDir, nodeBase, PoolNode, POOL_NETWORK, removeSharedDir, SHARED, waitFor, type NodeSpec } from "../../harness/self-hosted-pool";
import { makeSshKey } from "../../harness/ssh-key";
import { WORKER_DIR } from "../../provisioning/scripts";

const USER = "astronomer";
const FLAVOR = "c2-7.5gb-30";
const JOB = resolve(__dirname, "batch-job.sh");
const CERT = resolve(__dirname, "..", "test-certificate.sh");
// Made up for the bench; never printed.
const PASSWORD = "bench-pool-secret-5c2e9a71d04b3f86";
const CENTRAL_MANAGER = "127.0.10.1";
/** A node as the pool's user-data makes it (the pool test replays the program's own declaration; the bench needs only the roles). */
function spec(role: PoolRole, hostname: string, address: string): NodeSpec {
  const userData = renderPoolUserData({ role, distro: "debian", hostname, centralManager: CENTRAL_MANAGER, poolPassword: PASSWORD, poolNetwork: POOL_NETWORK });
  return { role, hostname, address, userData };
}
const SUBMIT = spec("submit", "pool-submit", CENTRAL_MANAGER);
const WORKERS = [spec("worker", "pool-worker-1", "127.0.10.2"), spec("worker", "pool-worker-2", "127.0.10.3")];

interface Run {
  start: number;
  end: number;
  host: string;
}

/** The rows of a bench-batch-job.sh log: START END EXIT_CODE HOST ARGS. */
function runs(log: string): Run[] {
  return log
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [start, end, code, host] = l.split(" ");
      if (code !== "0") throw new Error(`a job failed: ${l}`);
      return { start: Number(start), end: Number(end), host: host ?? "" };
    });
}

/** Mean time from a job's end to the next start on the same worker (the scheduler's gap). */
function meanGap(rows: readonly Run[]): number {
  const gaps: number[] = [];
  for (const host of new Set(rows.map((r) => r.host))) {
    const mine = rows.filter((r) => r.host === host).sort((a, b) => a.start - b.start);
    for (let i = 1; i < mine.length; i++) gaps.push((mine[i]?.start ?? 0) - (mine[i - 1]?.end ?? 0));
  }
  return gaps.length === 0 ? 0 : gaps.reduce((a, g) => a + g, 0) / gaps.length;
}

const busy = (rows: readonly Run[]) => rows.reduce((a, r) => a + r.end - r.start, 0);

export async function benchSelfHostedPool(opts: { n: number; ccds: number; seed: number; say: (line: string) => void }): Promise<void> {
  const { n, ccds, seed, say } = opts;
  const sample = await ensureSampleExposure({ ccds, width: 2048, height: 4612, seed }, say);
  const ids = Array.from({ length: n }, (_, i) => `${3_100_001 + i}p`);
  const base = await nodeBase();
  const shared = makeSharedDir(USER);
  const keys = mkdtempSync(join(tmpdir(), "bench-pool-key-"));
  const nodes: PoolNode[] = [];
  try {
    // The image's default user: nothing logs in during the bench, but every node has one.
    const login = { user: "debian", publicKey: (await makeSshKey(keys)).publicKey };
    copyFileSync(sample.fzPath, join(shared, "archive/CFHT/sample.fits.fz"));
    for (const id of ids) copyFileSync(sample.fzPath, join(shared, "archive/CFHT", `${id}.fits.fz`));
    // The pipeline, its parts and the timed job, where every node sees them (the shared bind).
    const bench = join(shared, "gates");
    for (const f of ["do_catalogue.bash", ...PIPELINE_PARTS]) writeFileSync(join(bench, f), readFileSync(join(WORKER_DIR, f)), { mode: 0o755 });
    writeFileSync(join(bench, "bench-batch-job.sh"), readFileSync(JOB), { mode: 0o755 });
    writeFileSync(join(bench, "test-certificate.sh"), readFileSync(CERT), { mode: 0o755 });
    const inShared = (f: string) => `${SHARED}/gates/${f}`;

    say("starting the self-hosted pool (submit node, two workers)");
    const nodeOpts = { base, shared, user: USER, login };
    const submit = await PoolNode.start(SUBMIT, nodeOpts);
    nodes.push(submit);
    for (const w of WORKERS) nodes.push(await PoolNode.start(w, nodeOpts));
    const worker = nodes[1];
    if (worker === undefined) throw new Error("no worker started");
    await waitFor(async () => (await submit.run(["condor_status", "-af", "Machine"])).stdout.trim().split("\n").filter((l) => l !== "").length === 2, 120_000, "both workers' slots");

    const home = `/home/${USER}`;
    for (const node of nodes) await node.runOk(["bash", inShared("test-certificate.sh"), `${home}/cadcproxy.pem`, USER]);
    const jobEnv = (run: string) => ({ CATALOGUE_DEST: `vos:${USER}/catalogues`, BENCH_PIPELINE: inShared("do_catalogue.bash"), BENCH_TIMES: `${SHARED}/log/${run}-times.log` });

    // Back to back on one worker, in the worker's job environment, after an untimed warm-up.
    const runOnce = async (id: string, run: string): Promise<void> => {
      const env = Object.entries({ ...jobEnv(run), _CONDOR_SCRATCH_DIR: `${home}/serial`, X509_USER_PROXY: `${home}/cadcproxy.pem` }).map(([k, v]) => `${k}=${v}`);
      await worker.runOk(["install", "-d", "-o", USER, "-g", USER, `${home}/serial`]);
      await worker.runOk(["env", ...env, "/usr/local/libexec/canfar-test/job-wrapper", inShared("bench-batch-job.sh"), id], { user: USER, timeoutMs: 900_000 });
    };
    say("warm-up run");
    await runOnce(ids[0] ?? "", "warm-up");
    const load = loadavg()[0] ?? 0;
    const serialStart = Date.now();
    for (const [i, id] of ids.entries()) {
      await runOnce(id, "serial");
      say(`back to back: ${i + 1}/${n} done`);
    }
    const serial = (Date.now() - serialStart) / 1000;

    // The pool: the program's submit file for these IDs, the timed job in front of the pipeline.
    const sub = renderSubmitFile({ flavor: FLAVOR, executable: inShared("bench-batch-job.sh"), environment: jobEnv("pool"), x509UserProxy: `${home}/cadcproxy.pem` });
    await submit.runOk(["install", "-d", "-o", USER, "-g", USER, `${home}/pool`]);
    await submit.runOk(["bash", "-c", 'cat > "$1"', "deliver", `${home}/pool/do_catalogue.sub`], { user: USER, stdin: sub });
    // What submit.sh writes: one job a line.
    await submit.runOk(["bash", "-c", 'cat > "$1"', "deliver", `${home}/pool/${QUEUE_FILE}`], { user: USER, stdin: `${ids.join("\n")}\n` });
    const poolStart = Date.now() / 1000;
    const submitted = await submit.runOk(["bash", "-c", "cd pool && condor_submit do_catalogue.sub"], { user: USER });
    const cluster = /submitted to cluster ([0-9]+)\./.exec(submitted.stdout)?.[1];
    if (cluster === undefined) throw new Error(`no cluster in: ${submitted.stdout}`);
    let done = -1;
    await waitFor(
      async () => {
        const h = await submit.runOk(["condor_history", cluster, "-af", "ExitCode"]);
        const codes = h.stdout.split("\n").filter((l) => l !== "");
        if (codes.some((c) => c !== "0")) throw new Error(`a job failed: exit codes ${codes.join(" ")}`);
        if (codes.length !== done) say(`pool: ${codes.length}/${n} done`);
        done = codes.length;
        return done === n;
      },
      3_600_000,
      `cluster ${cluster}`,
      500,
    );
    const viaPool = Date.now() / 1000 - poolStart;

    const s = runs(readFileSync(join(shared, "log/serial-times.log"), "utf8"));
    const p = runs(readFileSync(join(shared, "log/pool-times.log"), "utf8"));
    const perMinute = (t: number) => ((n * 60) / t).toFixed(2);
    const first = Math.min(...p.map((r) => r.start));
    const last = Math.max(...p.map((r) => r.end));
    const hosts = [...new Set(p.map((r) => r.host))].sort();
    process.stdout.write(
      `exposures: ${n} x ${ccds} CCDs of 2048x4612; self-hosted pool: submit node and 2 workers (${hosts.join(", ")} ran jobs) sharing ${cpus().length} cores, load average ${load.toFixed(1)} before\n` +
        `back to back (one worker) ${serial.toFixed(1)} s  ${perMinute(serial)} exposures/min  (a job ${(busy(s) / n).toFixed(1)} s)\n` +
        `self-hosted pool          ${viaPool.toFixed(1)} s  ${perMinute(viaPool)} exposures/min  (a job ${(busy(p) / n).toFixed(1)} s, two at a time on shared cores)\n` +
        `ratio pool / back to back: ${(viaPool / serial).toFixed(2)}\n` +
        `the scheduler's cost per job: ${(first - poolStart).toFixed(1)} s from condor_submit to the first job, ` +
        `${meanGap(p).toFixed(1)} s from a job's end to the next start on the same worker, ` +
        `${(poolStart + viaPool - last).toFixed(1)} s from the last job's end to its record in the history\n`,
    );
  } finally {
    for (const node of nodes.reverse()) await node.stop();
    await removeSharedDir(shared);
    rmSync(keys, { recursive: true, force: true });
  }
}
