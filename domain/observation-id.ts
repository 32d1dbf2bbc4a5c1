/**
 * CFHT exposure IDs as CADC names them (`1056213p`: the exposure number, then a letter for
 * the kind of frame: o raw, p processed, b bias, f flat...). The same rule guards the
 * config, the submit file and do_catalogue.bash, because the ID ends up in file names,
 * condor arguments and a CADC URI: anything else must never get that far.
 */
export const OBSERVATION_ID_SOURCE = "^[0-9]{6,8}[a-z]$";

/** Non-global, so `.test` keeps no state between calls. */
export const OBSERVATION_ID_PATTERN = new RegExp(OBSERVATION_ID_SOURCE);

/** One message per bad or repeated ID, naming the ID and its index; empty when all are good. */
export function observationIdProblems(ids: readonly string[]): string[] {
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  ids.forEach((id, i) => {
    if (!OBSERVATION_ID_PATTERN.test(id)) {
      problems.push(`observation ID ${JSON.stringify(id)} at index ${i} is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)`);
      return;
    }
    const first = firstIndex.get(id);
    if (first !== undefined) {
      problems.push(`observation ID '${id}' at index ${i} repeats index ${first}`);
      return;
    }
    firstIndex.set(id, i);
  });
  return problems;
}
