/** One shell word, single-quoted: nothing inside is expanded by the remote shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
