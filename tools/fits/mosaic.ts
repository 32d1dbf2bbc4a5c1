/**
 * A MegaCam-like focal plane: CCDs tiled 9 across in rows, each with its own TAN WCS on one
 * tangent point, so neighbouring CCDs meet on the sky with a gap as on the real camera.
 * (The real camera flips its upper half by 180 degrees; a plain tiling keeps the WCS simple
 * and changes nothing for source extraction.)
 */

export const ARCSEC_PER_PIXEL = 0.187;
const COLUMNS = 9;
/** Gap between CCDs, in pixels (about 80 px = 15" on MegaCam). */
const GAP = 80;

export interface Wcs {
  crval1: number;
  crval2: number;
  crpix1: number;
  crpix2: number;
  /** CD matrix in degrees per pixel, row-major: [CD1_1, CD1_2, CD2_1, CD2_2]. */
  cd: [number, number, number, number];
}

export interface Pointing {
  ra: number;
  dec: number;
}

export function ccdWcs(ccd: number, ccds: number, width: number, height: number, pointing: Pointing): Wcs {
  const columns = Math.min(COLUMNS, ccds);
  const rows = Math.ceil(ccds / columns);
  const col = ccd % columns;
  const row = Math.floor(ccd / columns);
  // Pixel (1,1) of this CCD sits at (x0+1, y0+1) on the focal plane, whose centre is (0,0).
  const x0 = -(columns * width + (columns - 1) * GAP) / 2 + col * (width + GAP);
  const y0 = -(rows * height + (rows - 1) * GAP) / 2 + row * (height + GAP);
  const scale = ARCSEC_PER_PIXEL / 3600;
  return { crval1: pointing.ra, crval2: pointing.dec, crpix1: -x0, crpix2: -y0, cd: [-scale, 0, 0, scale] };
}

const RAD = Math.PI / 180;

/** Gnomonic (TAN) projection, pixel (FITS 1-based) to sky, degrees (Calabretta & Greisen 2002). */
export function pixelToSky(wcs: Wcs, x: number, y: number): { ra: number; dec: number } {
  const dx = x - wcs.crpix1;
  const dy = y - wcs.crpix2;
  const xi = (wcs.cd[0] * dx + wcs.cd[1] * dy) * RAD;
  const eta = (wcs.cd[2] * dx + wcs.cd[3] * dy) * RAD;
  const dec0 = wcs.crval2 * RAD;
  const den = Math.cos(dec0) - eta * Math.sin(dec0);
  let ra = wcs.crval1 + Math.atan2(xi, den) / RAD;
  ra = ((ra % 360) + 360) % 360;
  const dec = Math.atan2(Math.sin(dec0) + eta * Math.cos(dec0), Math.hypot(xi, den)) / RAD;
  return { ra, dec };
}
