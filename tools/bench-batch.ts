/**
 * npm run bench:batch -- [--exposures N] [--ccds N] [--seed N]
 *
 * Sends N synthetic exposures through a real one-host HTCondor pool (the test pool of
 * tests/batch/htcondor-pool.ts, as root) and prints exposures per minute and the ratio to
 * running do_catalogue.bash N times back to back in the same root without HTCondor: what
 * the scheduler itself costs. The pool's slot is one c2-7.5gb-30 worker (2 CPUs), so jobs
 * run one after the other with both cores each, as on one CANFAR worker.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderSubmitFile } from "../provisioning/submit-file";
import { ensureSampleExposure } from "./fits/sample-cache";
import { wholeNumberOption } from "./whole-number-option";
import { ARCHIVE, HtcondorPool, VOSPACE } from "../tests/batch/htcondor-pool";

const USAGE = `usage: npm run bench:batch -- [--exposures N] [--ccds N] [--seed N]

Runs N copies of one synthetic exposure of N full-size (2048x4612) CCDs (made once and
cached, as for bench:pipeline) through do_catalogue.bash twice, inside a throwaway Debian 13
root: back to back from a shell, then as N jobs of one cluster on a real HTCondor pool on
127.0.0.1. Prints exposures per minute of each and the ratio pool / back to back.

  --exposures N   jobs in the cluster (default 4)
  --ccds N        CCDs per exposure (default 36)
  --seed N        generator seed (default 1)
  --help          this text

Needs root, debootstrap (the root is built and cached on first use), funpack and fpack.
The test pool negotiates every 2 s; a CANFAR pool also boots worker VMs, which this leaves out.`;

const USER = "bench";
const FLAVOR = "c2-7.5gb-30";
const PIPELINE = resolve(__dirname, "..", "provisioning", "pipeline", "do_catalogue.bash");

function say(line: string): void {
  process.stderr.write(`bench-batch: ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { exposures: { type: "string" }, ccds: { type: "string" }, seed: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const int = (name: string, v: string | undefined, d: number, min: number) => wholeNumberOption("bench-batch", USAGE, name, v, d, min);
  const n = int("exposures", values.exposures, 4, 1);
  const ccds = int("ccds", values.ccds, 36, 1);
  const seed = int("seed", values.seed, 1, 0);
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench-batch: needs root (it mounts a throwaway Debian root and runs HTCondor in it)\n");
    process.exit(2);
  }
  const sample = await ensureSampleExposure({ ccds, width: 2048, height: 4612, seed }, say);
  const ids = Array.from({ length: n }, (_, i) => `${3_000_001 + i}p`);

  say("starting the HTCondor pool");
  const pool = await HtcondorPool.start({ user: USER });
  try {
    // One copy of the exposure in the archive stand-in; each ID is a link to it.
    copyFileSync(sample.fzPath, pool.root.path(`${ARCHIVE}/CFHT/sample.fits.fz`));
    await pool.root.runOk(["bash", "-c", 'cd "$1" && for id in "${@:2}"; do ln -sf sample.fits.fz "$id.fits.fz"; done', "link", `${ARCHIVE}/CFHT`, ...ids]);
    const dest = (run: string) => `vos:${USER}/${run}`;
    await pool.root.runOk(["install", "-d", "-o", USER, "-g", USER, `${VOSPACE}/${USER}/serial`, `${VOSPACE}/${USER}/pool`]);
    await pool.ssh("mkdir -p serial pool && cat > do_catalogue.bash && chmod 755 do_catalogue.bash", readFileSync(PIPELINE, "utf8")).then(check("deliver"));

    // Back to back: the worker's environment (what the pool's job wrapper sets), no scheduler.
    // A first, untimed run warms the page cache with the exposure for both variants.
    const runOnce = async (id: string): Promise<void> => {
      const r = await pool.root.run(["/usr/local/libexec/canfar-test/job-wrapper", `/home/${USER}/do_catalogue.bash`, id], {
        user: USER,
        cwd: `/home/${USER}/serial`,
        env: { CATALOGUE_DEST: dest("serial"), _CONDOR_SCRATCH_DIR: `/home/${USER}/serial` },
        timeoutMs: 600_000,
      });
      if (r.code !== 0) throw new Error(`do_catalogue.bash ${id} exited ${r.code}: ${r.stderr}`);
    };
    say("warm-up run");
    await runOnce(ids[0] ?? "");
    await pool.root.runOk(["rm", "-f", `${VOSPACE}/${USER}/serial/${ids[0] ?? ""}.cat`]);
    const load = loadavg()[0];
    const serialStart = Date.now();
    for (const [i, id] of ids.entries()) {
      await runOnce(id);
      say(`back to back: ${i + 1}/${n} done`);
    }
    const serial = (Date.now() - serialStart) / 1000;

    // The pool: the program's submit file for these IDs, submitted as one cluster.
    const sub = renderSubmitFile({ ids, flavor: FLAVOR, executable: "../do_catalogue.bash", environment: { CATALOGUE_DEST: dest("pool") } });
    await pool.ssh("cat > pool/do_catalogue.sub", sub).then(check("deliver the submit file"));
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
    // Time the jobs themselves ran (starter to exit), to tell the scheduler's gaps from the work.
    const walls = await pool.root.runOk(["condor_history", cluster, "-af", "RemoteWallClockTime"]);
    const running = walls.stdout.split("\n").filter((l) => l !== "").reduce((a, l) => a + Number(l), 0);

    const perMinute = (s: number) => ((n * 60) / s).toFixed(2);
    process.stdout.write(
      `exposures: ${n} x ${ccds} CCDs of 2048x4612, one ${FLAVOR}-like slot (2 CPUs), ${cpus().length} cores, load average ${load.toFixed(1)} before\n` +
        `back to back  ${serial.toFixed(1)} s  ${perMinute(serial)} exposures/min\n` +
        `HTCondor pool ${viaPool.toFixed(1)} s  ${perMinute(viaPool)} exposures/min\n` +
        `ratio pool / back to back: ${(viaPool / serial).toFixed(2)}\n` +
        `in the pool the jobs ran ${running.toFixed(0)} s of the ${viaPool.toFixed(1)} s (HTCondor's wall clock, whole seconds); ` +
        `matching, starting and ending them took ${((viaPool - running) / n).toFixed(1)} s a job\n`,
    );
  } finally {
    await pool.stop();
  }
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
