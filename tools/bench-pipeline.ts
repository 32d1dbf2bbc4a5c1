/**
 * npm run bench:pipeline -- [--ccds 36] [--repeat 3] [--seed 1]
 *
 * Times the catalogue pipeline against the bare tools on a synthetic MegaCam exposure and
 * prints the ratios pipeline/bare. Bare: funpack of the whole file, then one
 * source-extractor over all extensions with the same configuration. Pipeline:
 * provisioning/pipeline/do_catalogue.bash with a local source and destination, with
 * CATALOGUE_JOBS=1 and =2. Targets: <= 1.10 with one job, <= 0.62 with two.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureSampleExposure } from "./fits/sample-cache";

const USAGE = `usage: npm run bench:pipeline -- [--ccds N] [--repeat N] [--seed N]

Times bare funpack + source-extractor against do_catalogue.bash (CATALOGUE_JOBS=1 and 2)
on a synthetic exposure of N full-size (2048x4612) CCDs, made once and cached under
$CANFAR_BATCH_SAMPLE_CACHE or the system temp directory. Prints the median and best time of
each and the ratios pipeline/bare (median). Targets: <= 1.10 (1 job), <= 0.62 (2 jobs).

  --ccds N     CCDs in the exposure (default 36)
  --repeat N   runs of each variant, interleaved (default 3)
  --seed N     generator seed (default 1)
  --help       this text

Needs funpack, fpack (libcfitsio-bin) and source-extractor.`;

const PIPELINE_DIR = resolve(__dirname, "..", "provisioning", "pipeline");

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bare(fzPath: string, id: string): number {
  const work = mkdtempSync(join(tmpdir(), "bench-bare-"));
  try {
    return seconds(() => {
      execFileSync("funpack", ["-O", join(work, `${id}.fits`), fzPath], { stdio: "inherit" });
      execFileSync(
        "source-extractor",
        [join(work, `${id}.fits`), "-c", join(PIPELINE_DIR, "catalogue.sex"), "-PARAMETERS_NAME", join(PIPELINE_DIR, "catalogue.param"),
          "-FILTER_NAME", join(PIPELINE_DIR, "default.conv"), "-CATALOG_NAME", join(work, `${id}.cat`), "-VERBOSE_TYPE", "QUIET"],
        { stdio: "inherit" },
      );
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function pipeline(sourceDir: string, id: string, jobs: number): number {
  const dest = mkdtempSync(join(tmpdir(), "bench-dest-"));
  try {
    return seconds(() =>
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
  const int = (name: string, v: string | undefined, d: number, min: number): number => {
    if (v === undefined) return d;
    if (!/^[0-9]+$/.test(v) || Number(v) < min) {
      process.stderr.write(`bench-pipeline: --${name} must be a whole number >= ${min}, got '${v}'\n${USAGE}\n`);
      process.exit(2);
    }
    return Number(v);
  };
  const ccds = int("ccds", values.ccds, 36, 1);
  const repeat = int("repeat", values.repeat, 3, 1);
  const seed = int("seed", values.seed, 1, 0);
  const sample = await ensureSampleExposure({ ccds, width: 2048, height: 4612, seed }, (l) => process.stderr.write(`bench-pipeline: ${l}\n`));

  const times: Record<string, number[]> = { bare: [], "jobs=1": [], "jobs=2": [] };
  for (let r = 1; r <= repeat; r++) {
    process.stderr.write(`bench-pipeline: round ${r}/${repeat}\n`);
    times.bare.push(bare(sample.fzPath, sample.id));
    times["jobs=1"].push(pipeline(sample.dir, sample.id, 1));
    times["jobs=2"].push(pipeline(sample.dir, sample.id, 2));
  }
  const base = median(times.bare);
  process.stdout.write(`exposure: ${ccds} CCDs of 2048x4612, ${repeat} runs each, ${cpus().length} cores\n`);
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    const ratio = name === "bare" ? "" : `  ratio ${(m / base).toFixed(2)} (best ${(Math.min(...xs) / Math.min(...times.bare)).toFixed(2)})`;
    process.stdout.write(`${name.padEnd(7)} median ${m.toFixed(2)} s  best ${Math.min(...xs).toFixed(2)} s${ratio}\n`);
  }
  process.stdout.write("targets: jobs=1 <= 1.10, jobs=2 <= 0.62\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-pipeline: ${(e as Error).message}\n`);
  process.exit(1);
});
