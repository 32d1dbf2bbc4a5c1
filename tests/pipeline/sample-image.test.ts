import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { readData, readHdus } from "../../tools/fits/reader";
import { ccdWcs, pixelToSky } from "../../tools/fits/mosaic";
import { DEFAULT_AIRMASS, DEFAULT_EXPTIME, DEFAULT_PHOTOMETRY } from "../../tools/fits/photometry";
import { readStars, REPO, run, SMOKE_DIR, tempDir } from "./support";

// The committed smoke fixture must stay reproducible: regenerating it with the same options
// and seed gives the same pixels (compared unpacked, so a different fpack build's
// compressed bytes do not matter).
const why = missing({ commands: ["fpack", "funpack"] });
const ID = "1056213p";
const FIXTURE_ARGS = ["--id", ID, "--ccds", "2", "--width", "512", "--height", "512", "--seed", "42", "--stars", "25"];

function unpack(fz: string, out: string): string {
  const r = run("funpack", ["-C", "-O", out, fz]);
  if (r.status !== 0) throw new Error(`funpack ${fz}: ${r.stderr}`);
  return out;
}

describe.skipIf(why)("sample-image", () => {
  let work: string;
  let fresh: string;
  let committed: string;

  beforeAll(() => {
    work = tempDir("sample");
    const r = run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "tools", "sample-image.ts"), ...FIXTURE_ARGS, "--out", join(work, "out")]);
    if (r.status !== 0) throw new Error(r.stderr);
    fresh = unpack(join(work, "out", `${ID}.fits.fz`), join(work, "fresh.fits"));
    committed = unpack(join(SMOKE_DIR, `${ID}.fits.fz`), join(work, "committed.fits"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("regenerates the committed smoke fixture pixel for pixel, and its star list", () => {
    const a = readHdus(fresh);
    const b = readHdus(committed);
    expect(a.length).toBe(3);
    expect(b.length).toBe(3);
    for (let i = 1; i < 3; i++) {
      expect(readData(fresh, a[i]).equals(readData(committed, b[i]))).toBe(true);
    }
    expect(readFileSync(join(work, "out", `${ID}.stars.tsv`), "utf8")).toBe(readFileSync(join(SMOKE_DIR, `${ID}.stars.tsv`), "utf8"));
  });

  it("writes MegaCam-like extensions: BITPIX 16, BZERO 32768, a TAN WCS at 0.187\"/px", () => {
    const ext = readHdus(fresh)[1].header;
    expect(ext.get("BITPIX")).toBe("16");
    expect(ext.get("BZERO")).toBe("32768");
    expect(ext.get("CTYPE1")).toBe("RA---TAN");
    expect(Math.abs(Number(ext.get("CD1_1")) * 3600)).toBeCloseTo(0.187, 6);
    expect(ext.get("EXTNAME")).toBe("ccd00");
  });

  it("writes an Elixir-like photometric calibration: EXPTIME, AIRMASS, IQMEASUR in the primary header, PHOT_C and companions in each CCD's, and each star's true magnitude", () => {
    const [primary, ext] = readHdus(fresh).map((h) => h.header);
    expect(Number(primary.get("EXPTIME"))).toBe(DEFAULT_EXPTIME);
    expect(Number(primary.get("AIRMASS"))).toBe(DEFAULT_AIRMASS);
    expect(Number(primary.get("IQMEASUR"))).toBe(0.65);
    expect(Number(ext.get("PHOT_C"))).toBe(DEFAULT_PHOTOMETRY.photC);
    expect(Number(ext.get("PHOT_K"))).toBe(DEFAULT_PHOTOMETRY.photK);
    for (const key of ["PHOT_CS", "PHOT_C0", "PHOT_X", "GAIN", "SATURATE"]) expect(ext.has(key), key).toBe(true);
    const zp = Number(ext.get("PHOT_C")) + 2.5 * Math.log10(DEFAULT_EXPTIME) + DEFAULT_PHOTOMETRY.photK * (DEFAULT_AIRMASS - 1);
    for (const s of readStars(join(SMOKE_DIR, `${ID}.stars.tsv`))) expect(s.mag).toBeCloseTo(zp - 2.5 * Math.log10(s.flux), 3);
  });

  it("a different seed gives different pixels", () => {
    const other = join(work, "other");
    const args = FIXTURE_ARGS.map((a) => (a === "42" ? "43" : a));
    const r = run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "tools", "sample-image.ts"), ...args, "--out", other]);
    expect(r.status).toBe(0);
    const o = unpack(join(other, `${ID}.fits.fz`), join(work, "other.fits"));
    expect(readData(o, readHdus(o)[1]).equals(readData(fresh, readHdus(fresh)[1]))).toBe(false);
  });

  it("lists stars at the sky positions the CCD's WCS gives, on a tiled mosaic", () => {
    const stars = readStars(join(SMOKE_DIR, `${ID}.stars.tsv`));
    expect(stars.length).toBe(50);
    const pointing = { ra: 150.1, dec: 2.2 };
    for (const s of stars) {
      const sky = pixelToSky(ccdWcs(s.ext - 1, 2, 512, 512, pointing), s.x, s.y);
      expect(Math.abs(sky.ra - s.ra)).toBeLessThan(1e-6);
      expect(Math.abs(sky.dec - s.dec)).toBeLessThan(1e-6);
    }
    // Neighbouring CCDs sit side by side on the sky, not on top of each other.
    const left = pixelToSky(ccdWcs(0, 2, 512, 512, pointing), 512, 256);
    const right = pixelToSky(ccdWcs(1, 2, 512, 512, pointing), 1, 256);
    expect(left.ra).toBeGreaterThan(right.ra);
    expect((left.ra - right.ra) * 3600).toBeCloseTo(81 * 0.187, 0);
  });

  it("puts the tangent point at the mosaic centre (pixel to sky round trip)", () => {
    const w = ccdWcs(0, 36, 2048, 4612, { ra: 10, dec: 60 });
    const at = pixelToSky(w, w.crpix1, w.crpix2);
    expect(at.ra).toBeCloseTo(10, 10);
    expect(at.dec).toBeCloseTo(60, 10);
  });
});
