/**
 * npm run bench:pipeline -- [--ccds 36] [--repeat 3] [--seed 1]
 *
 * Times the catalogue pipeline against the bare tools on a synthetic MegaCam exposure and
 * prints the ratios pipeline/bare. Bare: funpack of the whole file, then one
 * source-extractor over all extensions with the same configuration. Pipeline:
 * provisioning/worker/do_catalogue.bash with a local source and destination, with
 * CATALOGUE_JOBS=1 and =2. Targets: <= 1.10 with one job, <= 0.62 with two.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureSampleExposure } from "../fits/sample-cache";
import { wholeNumberOption } from "../whole-number-option";
import { WORKER_DIR } from "../../provisioning/scripts";

const USAGE = `usage: npm run bench:pipeline -- [--ccds N] [--repeat N] [--seed N]

Times bare funpack + source-extractor against do_catalogue.bash (CATALOGUE_JOBS=1 and 2)
on a synthetic exposure of N full-size (2048x4612) CCDs, made once and cached under
$CANFAR_BATCH_SAMPLE_CACHE or the system temp directory. Prints the median and best time of
each, the CPU seconds
used, and the ratios pipeline/bare (median). Targets: <= 1.10 (1 job), <= 0.62 (2 jobs).

  --ccds N     CCDs in the exposure (default 36)
  --repeat N   runs of each variant, interleaved (default 3)
  --seed N     generator seed (default 1)
  --help       this text

Needs funpack, fpack (libcfitsio-bin) and source-extractor.`;

const PIPELINE_DIR = WORKER_DIR;

interface Timing {
  wall: number;
  /** CPU seconds (user + system) of the child processes, from /proc/self/stat. */
  cpu: number;
}

/** cutime + cstime: CPU of every waited-for descendant, in clock ticks (100 a second on Linux). */
function childrenCpu(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
  // After "pid (comm) ", cutime and cstime are fields 14 and 15 (0-based).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function timed(run: () => void): Timing {
  const cpu0 = childrenCpu();
  const start = process.hrtime.bigint();
  run();
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: childrenCpu() - cpu0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bare(fzPath: string, id: string): Timing {
  const work = mkdtempSync(join(tmpdir(), "bench-bare-"));
  try {
    return timed(() => {
      execFileSync("funpack", ["-O", join(work, `${id}.fits`), fzPath], { stdio: "inherit" });
      execFileSync(
        "source-extractor",
        [join(work, `${id}.fits`), "-c", join(PIPELINE_DIR, "catalogue.sex"), "-PARAMETERS_NAME", join(PIPELINE_DIR, "catalogue.param"),
          "-FILTER_NAME", join(PIPELINE_DIR, "default.conv"), "-STARNNW_NAME", join(PIPELINE_DIR, "default.nnw"), "-CATALOG_NAME", join(work, `${id}.cat`), "-VERBOSE_TYPE", "QUIET"],
        { stdio: "inherit" },
      );
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function pipeline(sourceDir: string, id: string, jobs: number): Timing {
  const dest = mkdtempSync(join(tmpdir(), "bench-dest-"));
  try {
    return timed(() =>
      execFileSync(join(PIPELINE_DIR, "do_catalogue.bash"), [id], {
        stdio: ["ignore", "inherit", "ignore"],
        env: { ...process.env, CATALOGUE_SOURCE: sourceDir, CATALOGUE_DEST: dest, CATALOGUE_JOBS: String(jobs) },
      }),
    );
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ccds: { type: "string" }, repeat: { type: "string" }, seed: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const int = (name: string, v: string | undefined, d: number, min: number) => wholeNumberOption("bench-pipeline", USAGE, name, v, d, min);
  const ccds = int("ccds", values.ccds, 36, 1);
  const repeat = int("repeat", values.repeat, 3, 1);
  const seed = int("seed", values.seed, 1, 0);
  const sample = await ensureSampleExposure({ ccds, width: 2048, height: 4612, seed }, (l) => process.stderr.write(`bench-pipeline: ${l}\n`));

  const load = loadavg()[0];
  const times: Record<string, Timing[]> = { bare: [], "jobs=1": [], "jobs=2": [] };
  for (let r = 1; r <= repeat; r++) {
    process.stderr.write(`bench-pipeline: round ${r}/${repeat}\n`);
    times.bare.push(bare(sample.fzPath, sample.id));
    times["jobs=1"].push(pipeline(sample.dir, sample.id, 1));
    times["jobs=2"].push(pipeline(sample.dir, sample.id, 2));
  }
  const wall = (name: string): number[] => times[name].map((t) => t.wall);
  const base = median(wall("bare"));
  const baseCpu = median(times.bare.map((t) => t.cpu));
  process.stdout.write(`exposure: ${ccds} CCDs of 2048x4612, ${repeat} runs each, ${cpus().length} cores, load average ${load.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after\n`);
  for (const name of Object.keys(times)) {
    const m = median(wall(name));
    const cpu = median(times[name].map((t) => t.cpu));
    const ratio = name === "bare" ? "" : `  ratio ${(m / base).toFixed(2)} (best ${(Math.min(...wall(name)) / Math.min(...wall("bare"))).toFixed(2)}, cpu ${(cpu / baseCpu).toFixed(2)})`;
    process.stdout.write(`${name.padEnd(7)} median ${m.toFixed(2)} s  best ${Math.min(...wall(name)).toFixed(2)} s  cpu ${cpu.toFixed(2)} s${ratio}\n`);
  }
  if (load > 0.5) process.stdout.write(`note: the machine was busy (load ${load.toFixed(1)}): wall-clock ratios are unreliable\n`);
  process.stdout.write("targets: jobs=1 <= 1.10, jobs=2 <= 0.62\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-pipeline: ${(e as Error).message}\n`);
  process.exit(1);
});
