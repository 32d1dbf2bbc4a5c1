import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { Card } from "../../tools/fits/header";
import { Catalogue, EXIT, readCatalogue, readStars, runPipeline, tempDir, TOOLS } from "./support";

// The headers as they may come: a CCD header longer than the 16 blocks read at first (600
// COMMENT cards), a keyword in the CCD's header winning over the primary's (EXPTIME), one
// only in the primary (AIRMASS), a CCD without PHOT_K (no airmass term), and odd characters
// in EXTNAME, which goes into a tab-separated line and the catalogue. And SATURATE, which
// SExtractor reads from each CCD's header itself: low on the second CCD only.
const why = missing({ commands: TOOLS });
const ID = "3000301p";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe.skipIf(why)("zero points from headers of every shape", () => {
  let source: string;
  let dest: string;
  let cat: Catalogue;
  let stderr: string;

  beforeAll(async () => {
    source = tempDir("headers-src");
    dest = tempDir("headers-dest");
    const extra = (ccd: number): Card[] =>
      ccd === 0
        ? [
            ...Array.from({ length: 600 }, (_, i): Card => ({ key: "COMMENT", comment: `filler card ${i} to push the header past 16 blocks` })),
            { key: "PHOT_C", value: 25.0 },
            { key: "PHOT_K", value: -0.2 },
            { key: "EXPTIME", value: 50 },
          ]
        : [{ key: "PHOT_C", value: 26.0 }, { key: "EXTNAME", value: "ccd 01;rm" }];
    await writeExposure({ id: ID, outDir: source, ccds: 2, width: 1024, height: 2048, seed: 31, starsPerCcd: 80, exptime: 300, airmass: 1.2, photometry: null, extraCards: extra,
      saturate: (ccd) => (ccd === 0 ? 65000 : 3000) });
    const r = runPipeline(ID, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: "2" });
    stderr = r.stderr;
    expect(r.status, r.stderr).toBe(EXIT.ok);
    cat = readCatalogue(join(dest, `${ID}.cat`));
  });
  afterAll(() => {
    for (const d of [source, dest]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("says per CCD which keywords made its zero point and where each was found", () => {
    expect(stderr).toContain("2 CCDs in 2 chunks");
    expect(cat.notes).toEqual([
      "# zero point: EXT_NUMBER 1 (ccd00): MAG_ZEROPOINT 29.2074 = PHOT_C 25 + 2.5 log10(EXPTIME 50) + PHOT_K -0.2 x (AIRMASS 1.2 - 1) " +
        "(Elixir calibration; AIRMASS from the primary header); SEEING_FWHM 0.650 (IQMEASUR of the primary header)",
      // A second EXTNAME: the last card read wins, tamed to letters, digits and _ . + -.
      "# zero point: EXT_NUMBER 2 (ccd?01?rm): MAG_ZEROPOINT 32.1928 = PHOT_C 26 + 2.5 log10(EXPTIME 300), no airmass term (PHOT_K or AIRMASS missing) " +
        "(Elixir calibration; EXPTIME from the primary header); SEEING_FWHM 0.650 (IQMEASUR of the primary header)",
    ]);
  });

  it("flags saturated stars (FLAGS bit 4) by each CCD's own SATURATE: on the second CCD, never on the first", () => {
    const col = (n: string): number => cat.columns.indexOf(n);
    const saturated = (ext: number): number => cat.rows.filter((r) => r[col("EXT_NUMBER")] === ext && (r[col("FLAGS")] & 4) !== 0).length;
    expect(saturated(1)).toBe(0);
    expect(saturated(2)).toBeGreaterThan(5);
  });

  it("applies them: MAG_AUTO minus the stars' instrumental magnitude is each CCD's zero point", () => {
    const col = (n: string): number => cat.columns.indexOf(n);
    const stars = readStars(join(source, `${ID}.stars.tsv`)).filter((s) => s.snr > 20);
    for (const [ext, zp] of [[1, 29.2074], [2, 32.1928]]) {
      const d: number[] = [];
      for (const s of stars.filter((x) => x.ext === ext)) {
        const row = cat.rows.find((r) => r[col("EXT_NUMBER")] === ext && Math.hypot(r[col("X_IMAGE")] - s.x, r[col("Y_IMAGE")] - s.y) <= 1);
        if (row) d.push(row[col("MAG_AUTO")] - s.mag);
      }
      expect(d.length).toBeGreaterThan(20);
      expect(Math.abs(median(d) - zp)).toBeLessThan(0.02);
    }
  });
});
