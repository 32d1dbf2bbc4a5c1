import { Card } from "./header";

/**
 * The photometric calibration a synthetic exposure carries, as Elixir writes it into each CCD
 * of a processed (`p`) MegaCam file. Elixir's headers state the formula themselves (a
 * "Formula for Photometry" COMMENT block; CFHT's "MegaCam Data Calibration" page, section 2,
 * lists the keywords):
 *
 *   m = -2.5 log10(DN) + 2.5 log10(EXPTIME)
 *   M = m + PHOT_C + PHOT_K (AIRMASS - 1) + PHOT_X (PHOT_C1 - PHOT_C2)
 *
 * DN counts over the whole exposure, so the magnitude zero point of the image in ADU is
 * PHOT_C + 2.5 log10(EXPTIME) + PHOT_K (AIRMASS - 1). The colour term needs each source's
 * colour in a second band; the synthetic stars have none (PHOT_X = 0).
 * EXPTIME and AIRMASS go in the primary header, PHOT_* in each CCD's, so a reader must
 * look in both, as for a real file.
 */
export interface Photometry {
  /** PHOT_C, magnitude of 1 ADU/s at airmass 1: one for every CCD, or one per CCD (index = CCD). */
  photC: number | readonly number[];
  /** PHOT_K, the airmass term in magnitudes per airmass (negative, as Elixir writes it). */
  photK: number;
}

export const DEFAULT_EXPTIME = 300;
export const DEFAULT_AIRMASS = 1.2;
/** Close to MegaCam's r band (PHOT_C about 26.2-26.5, PHOT_K about -0.1). */
export const DEFAULT_PHOTOMETRY: Photometry = { photC: 26.4, photK: -0.1 };

/** PHOT_C of one CCD; throws if a per-CCD list is too short. */
export function photC(p: Photometry, ccd: number): number {
  if (typeof p.photC === "number") return p.photC;
  const c = p.photC[ccd];
  if (c === undefined) throw new Error(`photometry.photC has ${p.photC.length} values, none for CCD ${ccd}`);
  return c;
}

/** The zero point of CCD `ccd`'s pixels (ADU over the exposure): the formula above without the colour term. */
export function zeroPoint(p: Photometry, ccd: number, exptime: number, airmass: number): number {
  return photC(p, ccd) + 2.5 * Math.log10(exptime) + p.photK * (airmass - 1);
}

/** PHOT_C and its companions for one CCD's header, with Elixir's comments. */
export function photometryCards(p: Photometry, ccd: number): Card[] {
  const c = photC(p, ccd);
  return [
    { key: "PHOT_C", value: c, comment: "Elixir zero point - measured for camera run" },
    { key: "PHOT_CS", value: 0.01, comment: "Elixir zero point - scatter" },
    { key: "PHOT_C0", value: c, comment: "Elixir zero point - nominal" },
    { key: "PHOT_X", value: 0, comment: "Elixir zero point - color term (slope)" },
    { key: "PHOT_K", value: p.photK, comment: "Elixir zero point - airmass term" },
  ];
}
