import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { EXIT, filesUnder, PIPELINE_DIR, run, runPipeline, serialCatalogue, tempDir, TOOLS } from "./support";

// The catalogue is checked before it is stored: a blank exposure (sky noise, no source) is a
// failed job with the check's own exit code, held by the submit file like every non-zero
// exit, and nothing is stored. The check itself (catalogue-check.bash) is also run alone on
// catalogues broken in each way it looks for.
const why = missing({ commands: TOOLS });
const BLANK = "3000201p";
const GOOD = "3000202p";

/** Runs check_catalogue from the part on `catalogue`, for an exposure of `pixels` per CCD. */
function check(catalogue: string, pixels: readonly number[]): { status: number | null; out: string } {
  const script = [
    "set -Eeuo pipefail",
    "die() { local code=\"$1\"; shift; echo \"die: $*\"; exit \"${code}\"; }",
    "progress() { echo \"progress: $*\"; }",
    "EXIT_CHECK=7",
    `source '${join(PIPELINE_DIR, "catalogue-check.bash")}'`,
    `config_dir='${PIPELINE_DIR}' catalogue="$1"`,
    `ext_numbers=(${pixels.map((_, i) => i + 1).join(" ")}) ccd_pixels=(${pixels.join(" ")})`,
    "check_catalogue",
  ].join("\n");
  const r = run("bash", ["-c", script, "check", catalogue]);
  return { status: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(why)("the catalogue check", () => {
  let source: string;
  let dest: string;
  let scratch: string;
  let good: string;

  beforeAll(async () => {
    source = tempDir("check-src");
    dest = tempDir("check-dest");
    scratch = tempDir("check-scratch");
    const size = { ccds: 2, width: 1024, height: 2048, seed: 21 };
    await writeExposure({ ...size, id: BLANK, outDir: source, starsPerCcd: 0 });
    await writeExposure({ ...size, id: GOOD, outDir: source, starsPerCcd: 60 });
    good = join(scratch, "good.cat");
    writeFileSync(good, serialCatalogue(join(source, `${GOOD}.fits.fz`), source));
  });
  afterAll(() => {
    for (const d of [source, dest, scratch]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("a blank exposure (sky noise only) exits with the check's code, stores nothing and leaves no scratch", () => {
    const r = runPipeline(BLANK, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch, CATALOGUE_JOBS: "2" });
    expect(r.status, r.stderr).toBe(EXIT.check);
    expect(r.stderr).toContain("ccd 2/2 done");
    expect(r.stderr).toMatch(/catalogue check failed, nothing stored: no source with S\/N >= 10 on any of the 2 CCDs \([0-9]+ detections in all\): a blank or failed exposure/);
    expect(r.stderr).not.toContain("uploading");
    expect(filesUnder(dest)).toEqual([]);
    expect(filesUnder(scratch).filter((f) => f.startsWith("catalogue-"))).toEqual([]);
  });

  it("passes a real catalogue and says what it found", () => {
    const r = check(good, [1024 * 2048, 1024 * 2048]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/^progress: checked: [0-9]+ sources on 2 CCDs, [0-9]+ with S\/N >= 10 \(median [0-9]+ a CCD\)$/m);
  });

  it("remarks on a CCD with no strong source among busy ones, without failing", () => {
    // Rows of CCD 2 moved to a third CCD: CCD 2 is empty, CCDs 1 and 3 busy.
    const text = readFileSync(good, "utf8").replace(/^( +[0-9]+) +2 /gm, (_m, n: string) => `${n}   3 `);
    const moved = join(scratch, "moved.cat");
    writeFileSync(moved, text);
    const r = check(moved, [1024 * 2048, 1024 * 2048, 1024 * 2048]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain("no strong source on CCD 2: dead or covered?");
  });

  /** The text with its first data row (line number `at`, 1-based) changed by `change`. */
  function firstRow(t: string, change: (fields: string[]) => string[]): string {
    const lines = t.split("\n");
    const i = lines.findIndex((l) => l.trim() !== "" && !l.startsWith("#"));
    lines[i] = change(lines[i].trim().split(/\s+/)).join(" ");
    return lines.join("\n");
  }
  const firstRowLine = (t: string): number => t.split("\n").findIndex((l) => l.trim() !== "" && !l.startsWith("#")) + 1;
  const broken: [string, (t: string) => string, (t: string) => RegExp][] = [
    ["a column missing from the header", (t) => t.replace(/^# +16 CLASS_STAR .*\n/m, ""), () => /columns missing: CLASS_STAR/],
    ["a row cut short", (t) => firstRow(t, (f) => f.slice(0, -1)), (t) => new RegExp(`line ${firstRowLine(t)}: 15 fields where the header has 16`)],
    ["a field that is not a number", (t) => firstRow(t, (f) => f.map((v, i) => (i === 3 ? "abc" : v))), (t) => new RegExp(`line ${firstRowLine(t)}, field 4: "abc" is not a number`)],
    ["an EXT_NUMBER beyond the exposure's CCDs", (t) => firstRow(t, (f) => f.map((v, i) => (i === 1 ? "9" : v))), () => /EXT_NUMBER 9 is not one of the 2 CCDs/],
    ["no column header at all", (t) => t.split("\n").filter((l) => !l.startsWith("#")).join("\n"), () => /columns missing:/],
  ];
  it.each(broken)("fails %s with the check's code", (_name, breakIt, message) => {
    const path = join(scratch, "broken.cat");
    const text = readFileSync(good, "utf8");
    writeFileSync(path, breakIt(text));
    const r = check(path, [1024 * 2048, 1024 * 2048]);
    expect(r.status, r.out).toBe(EXIT.check);
    expect(r.out).toMatch(/^die: catalogue check failed, nothing stored: /m);
    expect(r.out).toMatch(message(text));
  });

  it("fails a CCD with more sources than its area can hold (one per 25 pixels)", () => {
    // The same rows, claimed for CCDs of 100 pixels.
    const r = check(good, [100, 100]);
    expect(r.status, r.out).toBe(EXIT.check);
    expect(r.out).toMatch(/CCD 1: [0-9]+ sources in 100 pixels, more than one per 25 pixels: implausible/);
  });

  it("fails an empty catalogue file", () => {
    const path = join(scratch, "empty.cat");
    writeFileSync(path, "");
    const r = check(path, [1024 * 2048]);
    expect(r.status, r.out).toBe(EXIT.check);
    expect(r.out).toContain("no SExtractor column header");
  });
});
