import { spawn } from "node:child_process";
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BLOCK, Card, dataPadding, headerBytes } from "./header";
import { ARCSEC_PER_PIXEL, ccdWcs, pixelToSky, Pointing, Wcs } from "./mosaic";
import { DEFAULT_AIRMASS, DEFAULT_EXPTIME, DEFAULT_PHOTOMETRY, Photometry, photometryCards, zeroPoint } from "./photometry";
import { ccdSeed, normalTable } from "./rng";
import { drawStars, FieldParams, renderCcd } from "./starfield";

/**
 * Writes a synthetic MegaCam-like exposure `<id>.fits.fz` (primary HDU plus one
 * Rice-compressed image extension per CCD, compressed by the real fpack) and the list of
 * injected stars `<id>.stars.tsv`. The exposure is never whole in memory or on disk
 * unpacked: each CCD is packed by fpack as a one-extension file while the next one is
 * drawn, and the packed extensions are written behind the primary header (a compressed HDU
 * is a self-contained binary table, so this is what fpack writes for the whole file).
 */

/** Bump when the pixels, headers or star list for given options change, so cached exposures are remade. */
export const GENERATOR_VERSION = 3;

export interface ExposureOptions {
  id: string;
  outDir: string;
  ccds: number;
  width: number;
  height: number;
  seed: number;
  /** Stars per CCD; default scales with area (about 280 on a full 2048x4612 CCD). */
  starsPerCcd?: number;
  pointing?: Pointing;
  /** EXPTIME, seconds (primary header). Default 300. */
  exptime?: number;
  /** AIRMASS (primary header). Default 1.2. */
  airmass?: number;
  /**
   * The Elixir photometric keywords written into each CCD's header (photometry.ts); default
   * one zero point for all CCDs. null writes none, as in a raw (`o`) file.
   */
  photometry?: Photometry | null;
  /** SATURATE written into CCD `ccd`'s header, ADU. Default 65000 on every CCD. */
  saturate?: (ccd: number) => number;
  /** More cards for CCD `ccd`'s header, after the others (tests of header readers). */
  extraCards?: (ccd: number) => Card[];
  onProgress?: (done: number, total: number) => void;
}

export interface ExposureResult {
  fzPath: string;
  starsPath: string;
  stars: number;
}

const SKY = 1500;
const FWHM = 3.5;
const FLUX_MIN = 500;
const FLUX_MAX = 400_000;
const STAR_DENSITY = 3e-5;

function primaryCards(o: ExposureOptions, pointing: Pointing, exptime: number, airmass: number): Card[] {
  return [
    { key: "SIMPLE", value: true, comment: "conforms to FITS standard" },
    { key: "BITPIX", value: 16 },
    { key: "NAXIS", value: 0 },
    { key: "EXTEND", value: true },
    { key: "NEXTEND", value: o.ccds, comment: "number of CCD extensions" },
    { key: "TELESCOP", value: "CFHT 3.6m" },
    { key: "INSTRUME", value: "MegaPrime" },
    { key: "OBJECT", value: "synthetic field" },
    { key: "EXPNUM", value: Number.parseInt(o.id, 10), comment: "exposure number" },
    { key: "OBSTYPE", value: "OBJECT" },
    { key: "RA_DEG", value: pointing.ra, comment: "pointing RA, degrees" },
    { key: "DEC_DEG", value: pointing.dec, comment: "pointing Dec, degrees" },
    { key: "EXPTIME", value: exptime, comment: "integration time (seconds)" },
    { key: "AIRMASS", value: airmass, comment: "airmass at start of observation" },
    // What QSO writes as the measured image quality: the stars' FWHM, arcsec.
    { key: "IQMEASUR", value: Number((FWHM * ARCSEC_PER_PIXEL).toFixed(2)), comment: "measured IQ in arcsec" },
    { key: "ORIGIN", value: "canfar-batch sample-image", comment: "synthetic, not CFHT data" },
    { key: "SAMPVER", value: GENERATOR_VERSION, comment: "sample-image generator version" },
    { key: "SAMPSEED", value: o.seed, comment: "sample-image seed" },
  ];
}

function extensionCards(o: ExposureOptions, ccd: number, wcs: Wcs, photometry: Card[]): Card[] {
  return [
    { key: "XTENSION", value: "IMAGE", comment: "image extension" },
    { key: "BITPIX", value: 16 },
    { key: "NAXIS", value: 2 },
    { key: "NAXIS1", value: o.width },
    { key: "NAXIS2", value: o.height },
    { key: "PCOUNT", value: 0 },
    { key: "GCOUNT", value: 1 },
    { key: "BSCALE", value: 1 },
    { key: "BZERO", value: 32768 },
    { key: "EXTNAME", value: `ccd${String(ccd).padStart(2, "0")}` },
    { key: "CCDNUM", value: ccd },
    { key: "GAIN", value: 1.0, comment: "e-/ADU" },
    { key: "SATURATE", value: o.saturate?.(ccd) ?? 65000, comment: "ADU" },
    ...photometry,
    { key: "RADESYS", value: "ICRS" },
    { key: "EQUINOX", value: 2000.0 },
    { key: "CTYPE1", value: "RA---TAN" },
    { key: "CTYPE2", value: "DEC--TAN" },
    { key: "CRVAL1", value: wcs.crval1 },
    { key: "CRVAL2", value: wcs.crval2 },
    { key: "CRPIX1", value: wcs.crpix1 },
    { key: "CRPIX2", value: wcs.crpix2 },
    { key: "CD1_1", value: wcs.cd[0] },
    { key: "CD1_2", value: wcs.cd[1] },
    { key: "CD2_1", value: wcs.cd[2] },
    { key: "CD2_2", value: wcs.cd[3] },
  ];
}

/**
 * Packs one single-extension FITS file with fpack (no checksums, so the output is
 * reproducible) and returns the compressed extension HDU: what follows fpack's copy of the
 * header-only primary HDU. Files, not pipes: fpack reads and writes pipes through memory
 * buffers and runs two to three times slower that way.
 */
function fpackExtension(raw: string, packed: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("fpack", ["-C", "-O", packed, raw], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(new Error(`Error running fpack on '${raw}': ${e.message}`)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`Error running fpack on '${raw}': exit ${code}: ${stderr.trim()}`));
      const bytes = readFileSync(packed);
      rmSync(raw);
      rmSync(packed);
      const primaryEnd = endOfHeader(bytes);
      if (primaryEnd < 0 || primaryEnd >= bytes.length) return reject(new Error(`Error running fpack on '${raw}': no compressed extension in its output`));
      resolve(bytes.subarray(primaryEnd));
    });
  });
}

/** Byte offset just past the header (the block holding END) of the HDU at the buffer's start. */
function endOfHeader(fits: Buffer): number {
  for (let block = 0; block + BLOCK <= fits.length; block += BLOCK) {
    for (let card = block; card < block + BLOCK; card += 80) {
      if (fits.toString("ascii", card, card + 8) === "END     ") return block + BLOCK;
    }
  }
  return -1;
}

/** Bad calibration options fail before anything is written, naming the option. */
function checkCalibration(ccds: number, exptime: number, airmass: number, photometry: Photometry | null): void {
  if (!(Number.isFinite(exptime) && exptime > 0)) throw new Error(`exptime must be a number of seconds > 0, got ${exptime}`);
  if (!(Number.isFinite(airmass) && airmass >= 1)) throw new Error(`airmass must be a number >= 1, got ${airmass}`);
  if (photometry === null) return;
  if (!Number.isFinite(photometry.photK)) throw new Error(`photometry.photK must be a finite number, got ${photometry.photK}`);
  const values = typeof photometry.photC === "number" ? [photometry.photC] : photometry.photC;
  if (typeof photometry.photC !== "number" && values.length !== ccds) {
    throw new Error(`photometry.photC must be one number or one per CCD (${ccds}), got ${values.length}`);
  }
  for (const c of values) if (!Number.isFinite(c)) throw new Error(`photometry.photC values must be finite numbers, got ${c}`);
}

export async function writeExposure(o: ExposureOptions): Promise<ExposureResult> {
  const pointing = o.pointing ?? { ra: 150.1, dec: 2.2 };
  const field: FieldParams = {
    width: o.width,
    height: o.height,
    sky: SKY,
    fwhm: FWHM,
    stars: o.starsPerCcd ?? Math.round(STAR_DENSITY * o.width * o.height),
    fluxMin: FLUX_MIN,
    fluxMax: FLUX_MAX,
  };
  const fzPath = join(o.outDir, `${o.id}.fits.fz`);
  const starsPath = join(o.outDir, `${o.id}.stars.tsv`);
  // Beside the outputs, so the final renames stay on one file system.
  const work = mkdtempSync(join(o.outDir, `.${o.id}.sample-`));
  const tmpFz = join(work, "exposure.fits.fz");
  const tmpStars = join(work, "stars.tsv");
  const exptime = o.exptime ?? DEFAULT_EXPTIME;
  const airmass = o.airmass ?? DEFAULT_AIRMASS;
  const photometry = o.photometry === undefined ? DEFAULT_PHOTOMETRY : o.photometry;
  checkCalibration(o.ccds, exptime, airmass, photometry);
  const table = normalTable();
  // mag: the star's true magnitude, calibrated with its CCD's zero point (photometry.ts), or
  // instrumental (-2.5 log10 flux) when the exposure carries no photometry.
  const rows: string[] = ["ext\tx\ty\tra\tdec\tflux\tsnr\tmag"];
  const primaryOnly = headerBytes([{ key: "SIMPLE", value: true }, { key: "BITPIX", value: 16 }, { key: "NAXIS", value: 0 }, { key: "EXTEND", value: true }]);
  const fd = openSync(tmpFz, "w");
  let renamed = false;
  try {
    writeSync(fd, headerBytes(primaryCards(o, pointing, exptime, airmass)));
    // fpack packs CCD k on the other core while CCD k+1 is drawn; packed CCDs are written
    // in order, so at most two are held in memory.
    let previous: Promise<Buffer> | undefined;
    for (let ccd = 0; ccd < o.ccds; ccd++) {
      const wcs = ccdWcs(ccd, o.ccds, o.width, o.height, pointing);
      const seed = ccdSeed(o.seed, ccd);
      const stars = drawStars(field, seed);
      const zp = photometry === null ? 0 : zeroPoint(photometry, ccd, exptime, airmass);
      for (const s of stars) {
        const sky = pixelToSky(wcs, s.x, s.y);
        const mag = zp - 2.5 * Math.log10(s.flux);
        rows.push([ccd + 1, s.x.toFixed(3), s.y.toFixed(3), sky.ra.toFixed(7), sky.dec.toFixed(7), s.flux.toFixed(1), s.snr.toFixed(2), mag.toFixed(4)].join("\t"));
      }
      const pixels = renderCcd(field, stars, table, seed ^ 0x5bd1e995);
      const raw = join(work, `ccd${ccd}.fits`);
      writeFileSync(raw, Buffer.concat([primaryOnly, headerBytes([...extensionCards(o, ccd, wcs, photometry === null ? [] : photometryCards(photometry, ccd)), ...(o.extraCards?.(ccd) ?? [])])]));
      appendFileSync(raw, pixels);
      appendFileSync(raw, dataPadding(pixels.length));
      const packing = fpackExtension(raw, join(work, `ccd${ccd}.fz`));
      // Awaited in turn below; this only keeps an early failure from counting as unhandled.
      packing.catch(() => undefined);
      if (previous) {
        writeSync(fd, await previous);
        o.onProgress?.(ccd, o.ccds);
      }
      previous = packing;
    }
    if (previous) {
      writeSync(fd, await previous);
      o.onProgress?.(o.ccds, o.ccds);
    }
    closeSync(fd);
    writeFileSync(tmpStars, rows.join("\n") + "\n");
    renameSync(tmpStars, starsPath);
    renameSync(tmpFz, fzPath);
    renamed = true;
    return { fzPath, starsPath, stars: rows.length - 1 };
  } finally {
    if (!renamed) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}
