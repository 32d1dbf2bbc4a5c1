import { closeSync, openSync, readSync } from "node:fs";
import { BLOCK } from "./header";

/**
 * A minimal reader of uncompressed FITS files: walks the HDUs and returns each header's
 * keyword values and where its data unit lies. Enough to compare pixels and check WCS in
 * tests; not a general FITS library (no CONTINUE, no HIERARCH).
 */
export interface Hdu {
  /** Keyword → raw value text (strings without quotes, numbers as written). */
  header: Map<string, string>;
  /** Byte offset of the first header block. */
  headerOffset: number;
  dataOffset: number;
  dataBytes: number;
}

function parseCard(card: string): [string, string] | undefined {
  const key = card.slice(0, 8).trim();
  if (card.slice(8, 10) !== "= ") return undefined;
  const rest = card.slice(10).trim();
  if (rest.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'/.exec(rest);
    return [key, (m?.[1] ?? "").replace(/''/g, "'").trimEnd()];
  }
  return [key, rest.split("/")[0].trim()];
}

function dataSize(h: Map<string, string>): number {
  const naxis = Number(h.get("NAXIS") ?? "0");
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= Number(h.get(`NAXIS${i}`));
  const bitpix = Math.abs(Number(h.get("BITPIX")));
  const gcount = Number(h.get("GCOUNT") ?? "1");
  const pcount = Number(h.get("PCOUNT") ?? "0");
  return (bitpix / 8) * gcount * (pcount + n);
}

export function readHdus(path: string): Hdu[] {
  const fd = openSync(path, "r");
  const hdus: Hdu[] = [];
  try {
    const block = Buffer.alloc(BLOCK);
    let offset = 0;
    for (;;) {
      const headerOffset = offset;
      const header = new Map<string, string>();
      let ended = false;
      while (!ended) {
        const got = readSync(fd, block, 0, BLOCK, offset);
        if (got === 0 && header.size === 0) return hdus;
        if (got !== BLOCK) throw new Error(`${path}: truncated header at byte ${offset}`);
        offset += BLOCK;
        const text = block.toString("ascii");
        for (let i = 0; i < BLOCK; i += 80) {
          const card = text.slice(i, i + 80);
          if (card.startsWith("END     ") || card.trimEnd() === "END") {
            ended = true;
            break;
          }
          const kv = parseCard(card);
          if (kv) header.set(kv[0], kv[1]);
        }
      }
      const dataBytes = dataSize(header);
      hdus.push({ header, headerOffset, dataOffset: offset, dataBytes });
      offset += Math.ceil(dataBytes / BLOCK) * BLOCK;
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes from the HDU's first header block to the end of its padded data unit. */
export function hduLength(hdu: Hdu): number {
  return hdu.dataOffset - hdu.headerOffset + Math.ceil(hdu.dataBytes / BLOCK) * BLOCK;
}

/** The data unit of one HDU, as bytes. */
export function readData(path: string, hdu: Hdu): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(hdu.dataBytes);
    const got = readSync(fd, buf, 0, hdu.dataBytes, hdu.dataOffset);
    if (got !== hdu.dataBytes) throw new Error(`${path}: truncated data unit at byte ${hdu.dataOffset}`);
    return buf;
  } finally {
    closeSync(fd);
  }
}
