/**
 * Exposures per minute on one worker for K exposures per job (do_catalogue.bash ID...),
 * against the CADC stand-ins slowed to a given bandwidth (CADC_DOUBLE_BANDWIDTH), so a
 * download costs time in proportion to its size as the archive's does. Runs locally, as the
 * job would on one worker (all its cores), without the scheduler; the scheduler's cost per
 * job comes from the pool bench (bench-batch --pool) and is divided by K.
 *
 * D and E are measured first, in the same run: E, one exposure catalogued from a local
 * directory (unpack, extract, merge, store); D, one cadcget of it through the slowed double.
 * The bound for K per job, downloads and extractions overlapped with one exposure of
 * look-ahead, is (min(D,E) + K max(D,E)) / K per exposure.
 */
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CADC_DOUBLES_DIR } from "../../harness/doubles/doubles-dir";
import { localPath, SCRIPTS } from "../../provisioning/scripts";

const PIPELINE = localPath(SCRIPTS.pipeline);
const DOUBLES = CADC_DOUBLES_DIR;

export interface ThroughputOptions {
  /** The cached exposure (ensureSampleExposure) every job's IDs are links to. */
  fzPath: string;
  /** Bytes/s of the stand-ins; undefined: size / E, so that D is about E. */
  bandwidth?: number;
  /** Seconds per CADC call. */
  latency: number;
  /** Job sizes to measure, e.g. [1, 4, 8]. */
  perJob: readonly number[];
  /** Exposures through the worker for each K: at least K (one job of K per K-group). */
  exposures: (k: number) => number;
  /** The scheduler's cost of one job, seconds (from the pool bench). */
  schedulerSecondsPerJob: number;
  log: (line: string) => void;
}

export interface ThroughputRow {
  k: number;
  exposures: number;
  seconds: number;
  perMinute: number;
  ofOnePerJob: number;
  boundPerExposure: number;
  ofBound: number;
  schedulerShare: number;
}

export interface ThroughputResult {
  bytes: number;
  bandwidth: number;
  d: number;
  /** The mean of E measured before and after the runs. */
  e: number;
  eBefore: number;
  eAfter: number;
  rows: ThroughputRow[];
}

function timed(args: string[], env: Record<string, string>): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return seconds;
}

const idOf = (n: number): string => `${2_500_000 + n}p`;

export function measureThroughput(o: ThroughputOptions): ThroughputResult {
  const dir = mkdtempSync(join(tmpdir(), "bench-throughput-"));
  try {
    const archive = join(dir, "archive", "CFHT");
    const local = join(dir, "local");
    mkdirSync(archive, { recursive: true });
    mkdirSync(local);
    const most = Math.max(...o.perJob.map(o.exposures));
    // Links, not copies: the same bytes under each ID, no disk cost.
    for (let n = 0; n < most; n++) linkOrFail(o.fzPath, join(archive, `${idOf(n)}.fits.fz`));
    linkOrFail(o.fzPath, join(local, `${idOf(0)}.fits.fz`));
    const bytes = statSync(o.fzPath).size;
    const base = { CATALOGUE_RETRY_DELAY: "0", PATH: `${DOUBLES}:${process.env.PATH ?? ""}`, DOUBLES_LOG: join(dir, "doubles.log"), CADC_DOUBLE_ROOT: join(dir, "archive") };

    const dest = (name: string): string => {
      const d = join(dir, name);
      mkdirSync(d);
      return d;
    };
    o.log(`E: cataloguing one exposure (${(bytes / 1e6).toFixed(0)} MB) from a local directory`);
    const eBefore = timed([PIPELINE, idOf(0)], { ...base, CATALOGUE_SOURCE: local, CATALOGUE_DEST: dest("e") });
    const bandwidth = o.bandwidth ?? Math.round(bytes / eBefore);
    const slow = { ...base, CADC_DOUBLE_BANDWIDTH: String(bandwidth), CADC_DOUBLE_LATENCY: String(o.latency) };
    o.log(`E = ${eBefore.toFixed(1)} s; bandwidth ${(bandwidth / 1e6).toFixed(2)} MB/s; D: one download`);
    const d = timed(["cadcget", "-o", join(dir, "d.fits.fz"), `cadc:CFHT/${idOf(0)}.fits.fz`], slow);
    rmSync(join(dir, "d.fits.fz"));
    o.log(`D = ${d.toFixed(1)} s`);

    // The machine's load drifts during the run: the bound takes E measured before and after
    // the runs it is compared with (their mean).
    const runs: Array<{ k: number; n: number; seconds: number }> = [];
    for (const k of o.perJob) {
      const n = o.exposures(k);
      const out = dest(`k${k}`);
      let seconds = 0;
      for (let first = 0; first < n; first += k) {
        const ids = Array.from({ length: Math.min(k, n - first) }, (_, i) => idOf(first + i));
        seconds += timed([PIPELINE, ...ids], { ...slow, CATALOGUE_DEST: out });
      }
      runs.push({ k, n, seconds });
      o.log(`K = ${k}: ${n} exposures in ${seconds.toFixed(1)} s`);
    }
    const eAfter = timed([PIPELINE, idOf(0)], { ...base, CATALOGUE_SOURCE: local, CATALOGUE_DEST: dest("e-after") });
    const e = (eBefore + eAfter) / 2;
    o.log(`E after the runs = ${eAfter.toFixed(1)} s; E = ${e.toFixed(1)} s (mean)`);
    const rows: ThroughputRow[] = [];
    for (const { k, n, seconds } of runs) {
      const perExposure = seconds / n;
      const boundPerExposure = (Math.min(d, e) + k * Math.max(d, e)) / k;
      const scheduler = o.schedulerSecondsPerJob / k;
      rows.push({
        k,
        exposures: n,
        seconds,
        perMinute: 60 / perExposure,
        ofOnePerJob: 0,
        boundPerExposure,
        ofBound: boundPerExposure / perExposure,
        schedulerShare: scheduler / (perExposure + scheduler),
      });
    }
    const one = rows.find((r) => r.k === 1);
    for (const r of rows) r.ofOnePerJob = one === undefined ? NaN : r.perMinute / one.perMinute;
    return { bytes, bandwidth, d, e, eBefore, eAfter, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function linkOrFail(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    throw new Error(`cannot link ${from} to ${to} (the bench's directory must be on the cache's file system): ${String(error)}`);
  }
}

export function throughputTable(r: ThroughputResult, schedulerSecondsPerJob: number, schedulerSource: string): string {
  const lines = [
    `exposure ${(r.bytes / 1e6).toFixed(0)} MB; bandwidth ${(r.bandwidth / 1e6).toFixed(2)} MB/s; D (download) ${r.d.toFixed(1)} s, E (extraction) ${r.e.toFixed(1)} s (${r.eBefore.toFixed(1)} before, ${r.eAfter.toFixed(1)} after), D/E ${(r.d / r.e).toFixed(2)}`,
    `scheduler ${schedulerSecondsPerJob.toFixed(2)} s per job (${schedulerSource}), divided among the job's exposures`,
    "",
    "  K/job  exposures  seconds  exp/min  x 1/job  bound s/exp  of bound  scheduler/exposure",
  ];
  for (const x of r.rows) {
    lines.push(
      `  ${String(x.k).padStart(5)}  ${String(x.exposures).padStart(9)}  ${x.seconds.toFixed(1).padStart(7)}  ${x.perMinute.toFixed(2).padStart(7)}  ${x.ofOnePerJob.toFixed(2).padStart(7)}  ${x.boundPerExposure.toFixed(1).padStart(11)}  ${x.ofBound.toFixed(2).padStart(8)}  ${(100 * x.schedulerShare).toFixed(1).padStart(17)} %`,
    );
  }
  return lines.join("\n");
}
