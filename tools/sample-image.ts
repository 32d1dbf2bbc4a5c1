/**
 * npm run sample-image -- --id ID --out DIR [--ccds 36] [--width 2048 --height 4612] [--seed N] [--stars N]
 *
 * Writes a synthetic MegaCam-like exposure DIR/ID.fits.fz (fpack-compressed, one image
 * extension per CCD, TAN WCS per CCD) and the injected stars DIR/ID.stars.tsv, so the
 * catalogue pipeline can be run and checked without CADC data.
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { writeExposure } from "./fits/exposure";

const USAGE = `usage: npm run sample-image -- --id ID --out DIR [options]

Writes DIR/ID.fits.fz, a synthetic MegaCam-like exposure (primary HDU plus one
BITPIX 16 / BZERO 32768 image extension per CCD with a TAN WCS, Gaussian stars on a
Poisson sky, compressed with fpack), and DIR/ID.stars.tsv, the injected stars
(ext, x, y in FITS 1-based pixels as SExtractor's X_IMAGE/Y_IMAGE, ra, dec, flux, snr,
mag). The headers carry an Elixir-like calibration (tools/fits/photometry.ts): EXPTIME
300, AIRMASS 1.2 and IQMEASUR in the primary header, PHOT_C 26.4, PHOT_K -0.1 and their
companions in each CCD's, GAIN and SATURATE too; mag is each star's true magnitude,
PHOT_C + 2.5 log10(EXPTIME) + PHOT_K (AIRMASS - 1) - 2.5 log10(flux).
The same options and seed always give the same pixels.

  --id ID        CFHT exposure id, digits then one lowercase letter (e.g. 1056213p)
  --out DIR      output directory (created if missing)
  --ccds N       number of CCD extensions, 1-40 (default 36)
  --width N      CCD width in pixels (default 2048)
  --height N     CCD height in pixels (default 4612)
  --seed N       random seed, a non-negative integer (default 1)
  --stars N      stars per CCD (default: about 280 per full-size CCD, scaled by area)
  --help         this text

Needs fpack (Debian package libcfitsio-bin).`;

export const EXPOSURE_ID = /^[0-9]{6,8}[a-z]$/;

function fail(message: string): never {
  process.stderr.write(`sample-image: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function intOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return Number(text);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        id: { type: "string" },
        out: { type: "string" },
        ccds: { type: "string" },
        width: { type: "string" },
        height: { type: "string" },
        seed: { type: "string" },
        stars: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.id || !EXPOSURE_ID.test(values.id)) fail(`--id must look like 1056213p (6-8 digits, one lowercase letter), got '${values.id ?? ""}'`);
  if (!values.out) fail("--out DIR is required");
  const ccds = intOption("ccds", values.ccds, 36, 1, 40);
  const width = intOption("width", values.width, 2048, 64, 8192);
  const height = intOption("height", values.height, 4612, 64, 8192);
  const seed = intOption("seed", values.seed, 1, 0, 2 ** 31 - 1);
  const starsPerCcd = values.stars === undefined ? undefined : intOption("stars", values.stars, 0, 0, 100_000);
  mkdirSync(values.out, { recursive: true });
  const started = Date.now();
  const result = await writeExposure({
    id: values.id,
    outDir: values.out,
    ccds,
    width,
    height,
    seed,
    starsPerCcd,
    onProgress: (done, total) => process.stderr.write(`sample-image: ccd ${done}/${total} written\n`),
  });
  process.stderr.write(`sample-image: ${result.fzPath} (${result.stars} stars in ${result.starsPath}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`sample-image: ${(e as Error).message}\n`);
  process.exit(1);
});
