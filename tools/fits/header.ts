/**
 * FITS header cards and blocks (FITS standard 4.0, section 4): 80-character ASCII cards,
 * fixed-format values, the header padded with blanks to a multiple of 2880 bytes.
 */

export const BLOCK = 2880;
const CARD = 80;

export type CardValue = string | number | boolean;

export interface Card {
  key: string;
  value?: CardValue;
  comment?: string;
}

/** Numbers as FITS fixed-format reals: integers stay integers, reals keep 12 significant digits. */
function formatValue(value: CardValue): string {
  if (typeof value === "boolean") return (value ? "T" : "F").padStart(20);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`FITS card value must be finite, got ${value}`);
    const text = Number.isInteger(value) ? String(value) : value.toPrecision(12).toUpperCase();
    return text.padStart(20);
  }
  // Strings: quoted, quotes doubled, at least 8 characters inside the quotes.
  return `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
}

export function formatCard(card: Card): string {
  if (!/^[A-Z0-9_-]{1,8}$/.test(card.key)) throw new Error(`bad FITS keyword '${card.key}'`);
  let text = card.key.padEnd(8);
  if (card.value !== undefined) {
    text += `= ${formatValue(card.value)}`;
    if (card.comment) text += ` / ${card.comment}`;
  } else if (card.comment) {
    text += card.comment;
  }
  if (text.length > CARD) throw new Error(`FITS card too long: ${text}`);
  return text.padEnd(CARD);
}

/** The header block(s): the cards, END, padded with blanks to a whole number of blocks. */
export function headerBytes(cards: Card[]): Buffer {
  const text = cards.map(formatCard).join("") + "END".padEnd(CARD);
  const size = Math.ceil(text.length / BLOCK) * BLOCK;
  return Buffer.from(text.padEnd(size), "ascii");
}

/** Zero bytes that pad a data unit of `dataBytes` bytes to a whole block. */
export function dataPadding(dataBytes: number): Buffer {
  const rest = dataBytes % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}
