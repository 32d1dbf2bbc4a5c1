import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Card, dataPadding, headerBytes } from "./header";
import { hduLength, readHdus } from "./reader";
import { ccdWcs, pixelToSky, Pointing, Wcs } from "./mosaic";
import { ccdSeed, normalTable } from "./rng";
import { drawStars, encodeNoisy, FieldParams, modelImage } from "./starfield";

/**
 * Writes a synthetic MegaCam-like exposure `<id>.fits.fz` (primary HDU plus one
 * Rice-compressed image extension per CCD, compressed by the real fpack) and the list of
 * injected stars `<id>.stars.tsv`. One CCD at a time is held in memory: each is written to
 * its own small FITS file and packed by fpack while the next one is drawn, then the packed
 * extensions are concatenated behind the primary header (a compressed HDU is a
 * self-contained binary table, so this is what fpack would write for the whole file).
 */

/** Bump when the pixels for a given seed change, so cached exposures are remade. */
export const GENERATOR_VERSION = 1;

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

function primaryCards(o: ExposureOptions, pointing: Pointing): Card[] {
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
    { key: "ORIGIN", value: "canfar-batch sample-image", comment: "synthetic, not CFHT data" },
    { key: "SAMPVER", value: GENERATOR_VERSION, comment: "sample-image generator version" },
    { key: "SAMPSEED", value: o.seed, comment: "sample-image seed" },
  ];
}

function extensionCards(o: ExposureOptions, ccd: number, wcs: Wcs): Card[] {
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
    { key: "SATURATE", value: 65000, comment: "ADU" },
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

/** Runs fpack on one single-extension file, without checksums so the output is reproducible. */
function fpack(input: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("fpack", ["-C", "-O", output, input], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(new Error(`Error running fpack on '${input}': ${e.message}`)));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`Error running fpack on '${input}': exit ${code}: ${stderr.trim()}`)),
    );
  });
}

function appendFile(fd: number, path: string, from: number, length: number): void {
  const src = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(length, 8 << 20));
    let done = 0;
    while (done < length) {
      const n = readSync(src, buf, 0, Math.min(buf.length, length - done), from + done);
      if (n === 0) throw new Error(`${path}: unexpected end of file`);
      writeSync(fd, buf, 0, n);
      done += n;
    }
  } finally {
    closeSync(src);
  }
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
  const work = mkdtempSync(join(o.outDir, `.${o.id}.sample-`));
  const fzPath = join(o.outDir, `${o.id}.fits.fz`);
  const starsPath = join(o.outDir, `${o.id}.stars.tsv`);
  const table = normalTable();
  const rows: string[] = ["ext\tx\ty\tra\tdec\tflux\tsnr"];
  try {
    const packed: Promise<void>[] = [];
    let done = 0;
    for (let ccd = 0; ccd < o.ccds; ccd++) {
      const wcs = ccdWcs(ccd, o.ccds, o.width, o.height, pointing);
      const seed = ccdSeed(o.seed, ccd);
      const stars = drawStars(field, seed);
      for (const s of stars) {
        const sky = pixelToSky(wcs, s.x, s.y);
        rows.push([ccd + 1, s.x.toFixed(3), s.y.toFixed(3), sky.ra.toFixed(7), sky.dec.toFixed(7), s.flux.toFixed(1), s.snr.toFixed(2)].join("\t"));
      }
      const pixels = encodeNoisy(modelImage(field, stars), table, seed ^ 0x5bd1e995);
      const raw = join(work, `ccd${ccd}.fits`);
      const fd = openSync(raw, "w");
      try {
        writeSync(fd, headerBytes([{ key: "SIMPLE", value: true }, { key: "BITPIX", value: 16 }, { key: "NAXIS", value: 0 }, { key: "EXTEND", value: true }]));
        writeSync(fd, headerBytes(extensionCards(o, ccd, wcs)));
        writeSync(fd, pixels);
        writeSync(fd, dataPadding(pixels.length));
      } finally {
        closeSync(fd);
      }
      // fpack runs on another core while the next CCD is drawn.
      packed.push(
        fpack(raw, join(work, `ccd${ccd}.fz`)).then(() => {
          rmSync(raw);
          o.onProgress?.(++done, o.ccds);
        }),
      );
      if (packed.length >= 2) await packed[packed.length - 2];
    }
    await Promise.all(packed);
    const tmp = join(work, "exposure.fits.fz");
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, headerBytes(primaryCards(o, pointing)));
      for (let ccd = 0; ccd < o.ccds; ccd++) {
        const part = join(work, `ccd${ccd}.fz`);
        const ext = readHdus(part)[1];
        if (!ext) throw new Error(`${part}: fpack wrote no extension`);
        appendFile(fd, part, ext.headerOffset, hduLength(ext));
      }
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(work, "stars.tsv"), rows.join("\n") + "\n");
    renameSync(join(work, "stars.tsv"), starsPath);
    renameSync(tmp, fzPath);
    return { fzPath, starsPath, stars: rows.length - 1 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
