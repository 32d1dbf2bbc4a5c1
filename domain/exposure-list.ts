import { OBSERVATION_ID_PATTERN, observationIdProblems } from "./observation-id";

/**
 * The campaign's exposures in the run directory: one ID a line, in the stack's order.
 * submit.sh reads it and queues those not yet catalogued (`queue.txt`).
 */
export const EXPOSURES_FILE = "exposures.txt";

/** The IDs are not fit for a run directory; every problem, together. */
export class ExposureListError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`cannot write ${EXPOSURES_FILE}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ExposureListError";
  }
}

/** The text of exposures.txt; checked again here, since it reaches a shell on the batch host. */
export function exposureListText(ids: readonly string[]): string {
  const problems = ids.length === 0 ? ["at least one observation ID is needed"] : observationIdProblems(ids);
  if (problems.length > 0) throw new ExposureListError(problems);
  return `${ids.join("\n")}\n`;
}

const ID_RULE = "a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)";

/**
 * A list of IDs as a person keeps it (`canfar:observationIdsFile`): one ID a line, `#` to the
 * end of a line a comment, blank lines and white space around an ID ignored. Each problem
 * names the file and the line. Linear in the file's size: a survey's list has 10,000 lines.
 */
export function parseExposureList(text: string, fileName: string): { ids: string[]; problems: string[] } {
  const ids: string[] = [];
  const problems: string[] = [];
  const firstLine = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf("#");
    const id = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (id === "") return;
    if (!OBSERVATION_ID_PATTERN.test(id)) {
      // The value is shown cut short and as JSON: a stray secret or control character stays readable and brief.
      problems.push(`${fileName} line ${line}: ${JSON.stringify(id.slice(0, 40))} is not ${ID_RULE}`);
      return;
    }
    const first = firstLine.get(id);
    if (first !== undefined) {
      problems.push(`${fileName} line ${line}: '${id}' repeats line ${first}`);
      return;
    }
    firstLine.set(id, line);
    ids.push(id);
  });
  if (ids.length === 0 && problems.length === 0) problems.push(`${fileName}: no exposure ID in it (one a line; '#' starts a comment)`);
  return { ids, problems };
}
