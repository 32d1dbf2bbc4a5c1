/**
 * Reads a `--name N` option of a bench command: its default when absent; a clear message
 * naming the option, then the usage and exit 2, when it is not a whole number >= min.
 */
export function wholeNumberOption(prog: string, usage: string, name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < min) {
    process.stderr.write(`${prog}: --${name} must be a whole number >= ${min}, got '${value}'\n${usage}\n`);
    process.exit(2);
  }
  return Number(value);
}
