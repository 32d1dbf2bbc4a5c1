import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { DEFAULT_AIRMASS, DEFAULT_EXPTIME, DEFAULT_PHOTOMETRY, zeroPoint } from "../../tools/fits/photometry";
import { EXIT, runPipeline, serialCatalogue, tempDir, TOOLS, withoutProvenance, withoutZeroPoints } from "./support";

// The pipeline cuts the CCDs into chunks run in parallel and merges their catalogues; the
// result must be the catalogue of one source-extractor run over the whole file (with the
// exposure's zero point and seeing), byte for byte (same rows, same order, same EXT_NUMBER
// and NUMBER), behind one "# zero point:" line per CCD. 11 CCDs: chunks of unequal size, and
// two-digit extension numbers, whose width the merge must keep.
const why = missing({ commands: TOOLS });
const ID = "2000001p";
const MIXED = "2000002p";
const CCDS = 11;

describe.skipIf(why)("merged parallel catalogue equals the serial run", () => {
  let source: string;
  let work: string;
  let serial: string;

  beforeAll(async () => {
    source = tempDir("merge-src");
    work = tempDir("merge-work");
    await writeExposure({ id: ID, outDir: source, ccds: CCDS, width: 500, height: 800, seed: 7, starsPerCcd: 40 });
    // Zero points differing from CCD to CCD in runs of 1 to 3: chunks are cut at each change.
    const photC = [26.0, 26.0, 26.5, 26.5, 26.5, 26.1, 27.0, 27.0, 26.2, 26.2, 26.2];
    await writeExposure({ id: MIXED, outDir: source, ccds: CCDS, width: 500, height: 800, seed: 8, starsPerCcd: 40, photometry: { photC, photK: -0.1 } });
    const zp = zeroPoint(DEFAULT_PHOTOMETRY, 0, DEFAULT_EXPTIME, DEFAULT_AIRMASS).toFixed(4);
    // IQMEASUR: the generator's 3.5 px FWHM at 0.187"/px.
    serial = serialCatalogue(join(source, `${ID}.fits.fz`), work, ["-MAG_ZEROPOINT", zp, "-SEEING_FWHM", "0.650"]);
  });
  afterAll(() => {
    for (const d of [source, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("has sources in every extension, NUMBER restarting at 1 in each (what SExtractor does)", () => {
    const rows = serial.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => l.trim().split(/\s+/).map(Number));
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    expect(rows.filter((r) => r[0] === 1).length).toBe(11);
  });

  it.each(["1", "2", "3", "16"])("CATALOGUE_JOBS=%s gives the serial catalogue, behind a zero point line per CCD", (jobs) => {
    const dest = tempDir(`merge-dest-${jobs}`);
    try {
      const r = runPipeline(ID, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: jobs });
      expect(r.status, r.stderr).toBe(EXIT.ok);
      expect(r.stderr).toContain("ccd 11/11 done");
      // The provenance lines (which hold the time) come first, then the zero point lines;
      // the rest is SExtractor's.
      const text = withoutProvenance(readFileSync(join(dest, `${ID}.cat`), "utf8"));
      expect(withoutZeroPoints(text)).toBe(serial);
      const notes = text.split("\n").slice(0, CCDS);
      expect(notes.map((l) => /^# zero point: EXT_NUMBER ([0-9]+) /.exec(l)?.[1])).toEqual(Array.from({ length: CCDS }, (_, i) => String(i + 1)));
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it("with a zero point changing from CCD to CCD, every CATALOGUE_JOBS gives the same bytes", () => {
    const outputs = ["1", "2", "3", "16"].map((jobs) => {
      const dest = tempDir(`merge-mixed-${jobs}`);
      try {
        const r = runPipeline(MIXED, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: jobs });
        expect(r.status, r.stderr).toBe(EXIT.ok);
        // With one job: one chunk, cut at the 4 changes of zero point.
        if (jobs === "1") expect(r.stderr).toContain("11 CCDs in 5 chunks, 1 at a time");
        return withoutProvenance(readFileSync(join(dest, `${MIXED}.cat`), "utf8"));
      } finally {
        rmSync(dest, { recursive: true, force: true });
      }
    });
    for (const o of outputs.slice(1)) expect(o).toBe(outputs[0]);
  });
});
