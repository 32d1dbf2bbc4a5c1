import { mulberry32, NORMAL_TABLE_BITS } from "./rng";

/**
 * One CCD of sky: Gaussian stars on a flat sky, with Poisson noise (gain 1 e-/ADU, drawn as
 * a Gaussian of variance equal to the expected counts, which is what Poisson tends to at
 * these levels), stored as BITPIX 16 with BZERO 32768 like MegaCam frames.
 */

export interface FieldParams {
  width: number;
  height: number;
  /** Sky level, ADU. */
  sky: number;
  /** Stellar FWHM, pixels. */
  fwhm: number;
  stars: number;
  /** Total flux range of the stars, ADU; drawn log-uniform. */
  fluxMin: number;
  fluxMax: number;
}

export interface Star {
  /** FITS 1-based pixel coordinates, as SExtractor's X_IMAGE / Y_IMAGE. */
  x: number;
  y: number;
  flux: number;
  /** Signal-to-noise with an optimal (PSF-weighted) aperture against sky and own shot noise. */
  snr: number;
}

/** Stars farther apart than this (in FWHM) are never blended by the extractor. */
const MIN_SEPARATION_FWHM = 4;
const EDGE_FWHM = 4;

export function drawStars(p: FieldParams, seed: number): Star[] {
  const rand = mulberry32(seed);
  const sigma = p.fwhm / 2.3548;
  const nEff = 4 * Math.PI * sigma * sigma;
  const edge = EDGE_FWHM * p.fwhm;
  const minSep2 = (MIN_SEPARATION_FWHM * p.fwhm) ** 2;
  const stars: Star[] = [];
  // Rejection sampling keeps stars apart; bounded so a crowded request still ends.
  for (let tries = 0; stars.length < p.stars && tries < p.stars * 50; tries++) {
    const x = 1 + edge + rand() * (p.width - 1 - 2 * edge);
    const y = 1 + edge + rand() * (p.height - 1 - 2 * edge);
    const flux = p.fluxMin * Math.exp(rand() * Math.log(p.fluxMax / p.fluxMin));
    if (stars.some((s) => (s.x - x) ** 2 + (s.y - y) ** 2 < minSep2)) continue;
    const snr = flux / Math.sqrt(flux + nEff * p.sky);
    stars.push({ x, y, flux, snr });
  }
  return stars;
}

function clamp16(v: number): number {
  return v < 0 ? 0 : v > 65535 ? 65535 : v;
}

/** Star light per pixel index (row-major, row 0 = FITS y 1), each stamp normalised to the star's flux. */
function starLight(p: FieldParams, stars: Star[]): Map<number, number> {
  const light = new Map<number, number>();
  const sigma = p.fwhm / 2.3548;
  const r = Math.ceil(5 * sigma);
  const weights = new Float64Array((2 * r + 1) ** 2);
  for (const s of stars) {
    const cx = Math.round(s.x);
    const cy = Math.round(s.y);
    let sum = 0;
    let k = 0;
    for (let j = cy - r; j <= cy + r; j++) {
      for (let i = cx - r; i <= cx + r; i++) {
        const w = Math.exp(-((i - s.x) ** 2 + (j - s.y) ** 2) / (2 * sigma * sigma));
        weights[k++] = w;
        sum += w;
      }
    }
    k = 0;
    for (let j = cy - r; j <= cy + r; j++) {
      for (let i = cx - r; i <= cx + r; i++) {
        const w = weights[k++];
        if (i < 1 || i > p.width || j < 1 || j > p.height) continue;
        const at = (j - 1) * p.width + (i - 1);
        light.set(at, (light.get(at) ?? 0) + (s.flux * w) / sum);
      }
    }
  }
  return light;
}

/**
 * The CCD's pixels as FITS BITPIX 16 / BZERO 32768 big-endian bytes: the stored signed value
 * is physical - 32768, which as an unsigned 16-bit pattern is physical XOR 0x8000.
 * Sky pixels (nearly all of them) come from a table of already-encoded noisy sky values, so
 * the dense pass is one random number and one lookup a pixel; star pixels are redrawn after.
 */
export function renderCcd(p: FieldParams, stars: Star[], normal: Float32Array, seed: number): Buffer {
  // The table has 2^16 entries: a 16-bit slice of a random number indexes it.
  const mask = (1 << NORMAL_TABLE_BITS) - 1;
  const skyCodes = new Uint16Array(mask + 1);
  const skySigma = Math.sqrt(p.sky);
  for (let k = 0; k <= mask; k++) skyCodes[k] = clamp16(Math.round(p.sky + skySigma * normal[k])) ^ 0x8000;
  const out = new Uint16Array(p.width * p.height);
  let s = seed >>> 0 || 1;
  // xorshift32, the cheapest generator with a full period: each 32-bit draw indexes the
  // table twice, 16 bits for each of two pixels.
  const even = out.length & ~1;
  for (let i = 0; i < even; i += 2) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = skyCodes[s & 0xffff];
    out[i + 1] = skyCodes[s >>> 16];
  }
  if (even < out.length) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[even] = skyCodes[s & 0xffff];
  }
  for (const [at, light] of starLight(p, stars)) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const m = p.sky + light;
    out[at] = clamp16(Math.round(m + Math.sqrt(m) * normal[(s >>> 8) & mask])) ^ 0x8000;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength).swap16();
}
