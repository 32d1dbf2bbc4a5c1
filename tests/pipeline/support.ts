import { spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CADC_DOUBLES_DIR } from "../../harness/doubles/doubles-dir";

/** Paths and runners shared by the catalogue pipeline tests. */
export const REPO = resolve(__dirname, "..", "..");
export const PIPELINE_DIR = join(REPO, "provisioning", "worker");
export const PIPELINE = join(PIPELINE_DIR, "do_catalogue.bash");
export const DOUBLES = CADC_DOUBLES_DIR;
export const SMOKE_DIR = join(PIPELINE_DIR, "smoke");

/** Exit codes documented by do_catalogue.bash --help. */
export const EXIT = { ok: 0, internal: 1, usage: 2, download: 3, unpack: 4, extract: 5, upload: 6, check: 7 } as const;

export const TOOLS = ["funpack", "fpack", "source-extractor", "timeout", "awk"];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `canfar-pipeline-${prefix}-`));
}

export function run(cmd: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 300_000): RunResult {
  const start = Date.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - start) / 1000 };
}

/** Runs the repository's do_catalogue.bash with fast retry settings unless overridden. */
export function runPipeline(id: string, env: Record<string, string | undefined>): RunResult {
  return run(PIPELINE, [id], { CATALOGUE_RETRY_DELAY: "0", ...env });
}

/** Environment putting the cadcget/vcp/vmv/vrm doubles first on PATH. */
export function doublesEnv(log: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${DOUBLES}:${process.env.PATH ?? ""}`, DOUBLES_LOG: log, ...extra };
}

/** Every file under dir, relative, sorted; hidden ones included. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.push(`${rel}${name}`);
    }
  };
  walk(dir, "");
  return out.sort();
}

export interface Catalogue {
  columns: string[];
  rows: number[][];
  /** The other comment lines ("# zero point: ...", provenance), in order. */
  notes: string[];
  text: string;
}

/** SExtractor's ASCII_HEAD column lines: `#   1 NUMBER   Running object number`. */
const COLUMN_LINE = /^#\s+\d+\s+(\S+)/;

export function readCatalogue(path: string): Catalogue {
  const text = readFileSync(path, "utf8");
  const columns: string[] = [];
  const rows: number[][] = [];
  const notes: string[] = [];
  for (const line of text.split("\n")) {
    const column = COLUMN_LINE.exec(line);
    if (column) columns.push(column[1]);
    else if (line.startsWith("# canfar-batch ")) continue;
    else if (line.startsWith("#")) notes.push(line);
    else if (line.trim()) rows.push(line.trim().split(/\s+/).map(Number));
  }
  return { columns, rows, notes, text };
}

/** A catalogue's text without its "# zero point:" lines: what SExtractor itself wrote. */
export function withoutZeroPoints(text: string): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("# zero point:"))
    .join("\n");
}

/** The pipeline's provenance lines (`# canfar-batch KEY: VALUE`) at the head of a stored catalogue, by key. */
export function provenance(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^# canfar-batch ([a-z]+): (.*)$/.exec(line);
    if (!m) break;
    out[m[1]] = m[2];
  }
  return out;
}

/** A stored catalogue without its provenance lines: SExtractor's header and rows, as merged. */
export function withoutProvenance(text: string): string {
  return text.replace(/^(# canfar-batch [a-z]+: .*\n)+/, "");
}

export interface InjectedStar {
  ext: number;
  x: number;
  y: number;
  ra: number;
  dec: number;
  flux: number;
  snr: number;
  /** True magnitude: calibrated with the CCD's zero point, or instrumental in a raw exposure. */
  mag: number;
}

export function readStars(path: string): InjectedStar[] {
  const [head, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = head.split("\t");
  return lines.map((l) => {
    const v = l.split("\t").map(Number);
    const at = (n: string): number => v[names.indexOf(n)];
    return { ext: at("ext"), x: at("x"), y: at("y"), ra: at("ra"), dec: at("dec"), flux: at("flux"), snr: at("snr"), mag: at("mag") };
  });
}

export interface Recovery {
  /** Injected stars above the S/N cut, and how many have a source within maxPx on their CCD. */
  total: number;
  found: number;
  /** Largest disagreement (arcsec) between a match's sky and pixel offsets at 0.187"/px. */
  worstWcs: number;
}

/** How many injected stars brighter than minSnr the catalogue found within maxPx pixels. */
export function starRecovery(cat: Catalogue, stars: readonly InjectedStar[], minSnr = 10, maxPx = 1): Recovery {
  const col = (n: string): number => cat.columns.indexOf(n);
  const [ext, x, y, ra, dec] = [col("EXT_NUMBER"), col("X_IMAGE"), col("Y_IMAGE"), col("ALPHA_J2000"), col("DELTA_J2000")];
  const byExt = new Map<number, number[][]>();
  for (const r of cat.rows) byExt.set(r[ext], [...(byExt.get(r[ext]) ?? []), r]);
  const bright = stars.filter((s) => s.snr > minSnr);
  let found = 0;
  // The WCS SExtractor read from each CCD must be the one the stars were placed with.
  let worstWcs = 0;
  for (const s of bright) {
    let best: number[] | undefined;
    let bestD = Infinity;
    for (const r of byExt.get(s.ext) ?? []) {
      const d = Math.hypot(r[x] - s.x, r[y] - s.y);
      if (d < bestD) [best, bestD] = [r, d];
    }
    if (best && bestD <= maxPx) {
      found++;
      const dra = (best[ra] - s.ra) * Math.cos((s.dec * Math.PI) / 180);
      worstWcs = Math.max(worstWcs, Math.abs(Math.hypot(dra, best[dec] - s.dec) * 3600 - bestD * 0.187));
    }
  }
  return { total: bright.length, found, worstWcs };
}

/**
 * The serial reference: funpack the whole file, one source-extractor over every extension,
 * with `settings` (e.g. the exposure's -MAG_ZEROPOINT and -SEEING_FWHM) after the pipeline's
 * configuration.
 */
export function serialCatalogue(fzPath: string, work: string, settings: readonly string[] = []): string {
  const fits = join(work, "serial.fits");
  const cat = join(work, "serial.cat");
  const unpack = run("funpack", ["-O", fits, fzPath]);
  if (unpack.status !== 0) throw new Error(`funpack failed: ${unpack.stderr}`);
  const sex = run("source-extractor", [
    fits, "-c", join(PIPELINE_DIR, "catalogue.sex"), "-PARAMETERS_NAME", join(PIPELINE_DIR, "catalogue.param"),
    "-FILTER_NAME", join(PIPELINE_DIR, "default.conv"), "-STARNNW_NAME", join(PIPELINE_DIR, "default.nnw"),
    "-CATALOG_NAME", cat, "-VERBOSE_TYPE", "QUIET", ...settings,
  ]);
  if (sex.status !== 0) throw new Error(`source-extractor failed: ${sex.stderr}`);
  return readFileSync(cat, "utf8");
}
