import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { zeroPoint } from "../../tools/fits/photometry";
import { Catalogue, EXIT, InjectedStar, readCatalogue, readStars, runPipeline, tempDir, TOOLS, withoutProvenance } from "./support";

// Calibrated magnitudes, per CCD, from the headers: a synthetic exposure whose two CCDs carry
// Elixir zero points 0.7 mag apart (PHOT_C), with EXPTIME and AIRMASS in the primary header.
// For the injected stars with S/N > 20 (all isolated: the generator keeps them 4 FWHM
// apart), calibrated minus true magnitude must have the same median on both CCDs within
// 0.02 mag, and within 0.1 mag of zero. No aperture correction is applied: MAG_AUTO (Kron
// factor 2.5) of these Gaussian stars misses about 0.1 % of their light.
const why = missing({ commands: TOOLS });
const ID = "3000101p";
const RAW = "3000102o";
const PHOT_C = [26.0, 26.7];
const PHOT_K = -0.1;
const EXPTIME = 300;
const AIRMASS = 1.2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The catalogue row nearest each star above the S/N cut on its CCD, within 1 pixel. */
function matches(cat: Catalogue, stars: readonly InjectedStar[], minSnr: number): { star: InjectedStar; row: number[] }[] {
  const col = (n: string): number => cat.columns.indexOf(n);
  const [ext, x, y] = [col("EXT_NUMBER"), col("X_IMAGE"), col("Y_IMAGE")];
  const out: { star: InjectedStar; row: number[] }[] = [];
  for (const star of stars.filter((s) => s.snr > minSnr)) {
    let best: number[] | undefined;
    let bestD = 1;
    for (const r of cat.rows) {
      if (r[ext] !== star.ext) continue;
      const d = Math.hypot(r[x] - star.x, r[y] - star.y);
      if (d <= bestD) [best, bestD] = [r, d];
    }
    if (best) out.push({ star, row: best });
  }
  return out;
}

/** Median of (catalogue column - true magnitude) per CCD. */
function offsets(cat: Catalogue, stars: readonly InjectedStar[], column: string): Map<number, { n: number; median: number }> {
  const c = cat.columns.indexOf(column);
  const by = new Map<number, number[]>();
  for (const { star, row } of matches(cat, stars, 20)) by.set(star.ext, [...(by.get(star.ext) ?? []), row[c] - star.mag]);
  return new Map([...by].map(([e, d]) => [e, { n: d.length, median: median(d) }]));
}

describe.skipIf(why)("calibrated magnitudes from each CCD's Elixir zero point", () => {
  let source: string;
  let dest: string;
  let cat: Catalogue;
  let raw: Catalogue;
  let stars: InjectedStar[];
  let rawStars: InjectedStar[];

  beforeAll(async () => {
    source = tempDir("calib-src");
    dest = tempDir("calib-dest");
    const common = { outDir: source, ccds: 2, width: 1024, height: 2304, seed: 11, starsPerCcd: 150, exptime: EXPTIME, airmass: AIRMASS };
    await writeExposure({ ...common, id: ID, photometry: { photC: PHOT_C, photK: PHOT_K } });
    await writeExposure({ ...common, id: RAW, photometry: null });
    for (const id of [ID, RAW]) {
      const r = runPipeline(id, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: "2" });
      expect(r.status, r.stderr).toBe(EXIT.ok);
    }
    cat = readCatalogue(join(dest, `${ID}.cat`));
    raw = readCatalogue(join(dest, `${RAW}.cat`));
    stars = readStars(join(source, `${ID}.stars.tsv`));
    rawStars = readStars(join(source, `${RAW}.stars.tsv`));
  });
  afterAll(() => {
    for (const d of [source, dest]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("the star list's true magnitudes follow Elixir's formula: PHOT_C + 2.5 log10(EXPTIME) + PHOT_K (AIRMASS - 1) - 2.5 log10(ADU)", () => {
    for (const s of stars) {
      const zp = PHOT_C[s.ext - 1] + 2.5 * Math.log10(EXPTIME) + PHOT_K * (AIRMASS - 1);
      expect(Math.abs(s.mag - (zp - 2.5 * Math.log10(s.flux)))).toBeLessThan(2e-4);
    }
    for (const s of rawStars) expect(Math.abs(s.mag + 2.5 * Math.log10(s.flux))).toBeLessThan(2e-4);
  });

  it("MAG_AUTO minus true magnitude of stars with S/N > 20: the same median on both CCDs within 0.02 mag, within 0.1 mag of zero", () => {
    const auto = offsets(cat, stars, "MAG_AUTO");
    const aper = offsets(cat, stars, "MAG_APER");
    console.log(`median MAG_AUTO - true: ${[...auto].map(([e, o]) => `CCD ${e} ${o.median.toFixed(4)} (${o.n} stars)`).join(", ")}; ` +
      `MAG_APER (2"): ${[...aper].map(([e, o]) => `CCD ${e} ${o.median.toFixed(4)}`).join(", ")}`);
    const [a, b] = [auto.get(1), auto.get(2)];
    expect(a?.n).toBeGreaterThan(50);
    expect(b?.n).toBeGreaterThan(50);
    expect(Math.abs((a?.median ?? 99) - (b?.median ?? -99))).toBeLessThan(0.02);
    for (const o of [a, b]) expect(Math.abs(o?.median ?? 99)).toBeLessThan(0.1);
    for (const o of aper.values()) expect(Math.abs(o.median)).toBeLessThan(0.1);
  });

  it("records the zero point applied to each CCD and where it came from, before the column header", () => {
    expect(cat.notes.length).toBe(2);
    for (const [i, note] of cat.notes.entries()) {
      const zp = zeroPoint({ photC: PHOT_C, photK: PHOT_K }, i, EXPTIME, AIRMASS).toFixed(4);
      expect(note).toBe(
        `# zero point: EXT_NUMBER ${i + 1} (ccd0${i}): MAG_ZEROPOINT ${zp} = PHOT_C ${PHOT_C[i]} + 2.5 log10(EXPTIME ${EXPTIME}) + PHOT_K ${PHOT_K} x (AIRMASS ${AIRMASS} - 1) ` +
          `(Elixir calibration; EXPTIME, AIRMASS from the primary header); SEEING_FWHM 0.650 (IQMEASUR of the primary header)`,
      );
    }
    const lines = withoutProvenance(cat.text).split("\n");
    expect(lines.slice(0, 2)).toEqual(cat.notes);
    expect(lines[2]).toMatch(/^# {3}1 NUMBER /);
  });

  it("an exposure without PHOT_C (a raw `o` file) keeps instrumental magnitudes and says so", () => {
    expect(raw.notes).toEqual([1, 2].map((e) => `# zero point: EXT_NUMBER ${e} (ccd0${e - 1}): MAG_ZEROPOINT 0 (no PHOT_C in the header): instrumental magnitudes, -2.5 log10(ADU); SEEING_FWHM 0.650 (IQMEASUR of the primary header)`));
    for (const o of offsets(raw, rawStars, "MAG_AUTO").values()) expect(Math.abs(o.median)).toBeLessThan(0.1);
  });

  it("gives stars their size, roundness and stellarity: FWHM_IMAGE near the injected 3.5 px, ELONGATION near 1, CLASS_STAR near 1", () => {
    const col = (n: string): number => cat.columns.indexOf(n);
    const bright = matches(cat, stars, 50).map((m) => m.row);
    expect(bright.length).toBeGreaterThan(50);
    expect(Math.abs(median(bright.map((r) => r[col("FWHM_IMAGE")])) - 3.5)).toBeLessThan(0.35);
    expect(median(bright.map((r) => r[col("ELONGATION")]))).toBeLessThan(1.1);
    expect(median(bright.map((r) => r[col("CLASS_STAR")]))).toBeGreaterThan(0.9);
    // The errors come with the magnitudes.
    expect(median(bright.map((r) => r[col("MAGERR_APER")]))).toBeGreaterThan(0);
  });
});
