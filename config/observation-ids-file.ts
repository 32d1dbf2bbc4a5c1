import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseExposureList } from "../domain/exposure-list";

/** A survey's list is a few hundred kB at most; a bigger file is surely not a list of IDs. */
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * `canfar:observationIdsFile`: the IDs of a file, relative to the project directory (where
 * Pulumi.yaml is), or every problem with it, each naming the file and the line.
 */
export function readObservationIdsFile(path: string, projectDir: string): { ids: string[]; problems: string[] } {
  const full = isAbsolute(path) ? path : resolve(projectDir, path);
  let text: string;
  try {
    const bytes = readFileSync(full);
    if (bytes.length > MAX_BYTES) return { ids: [], problems: [`'${path}' is ${bytes.length} bytes; expected a list of exposure IDs (at most ${MAX_BYTES} bytes)`] };
    text = bytes.toString("utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (code ?? "unreadable");
    return { ids: [], problems: [`cannot read '${path}' (${full}): ${why}; expected a file of exposure IDs, one a line, relative to the project directory`] };
  }
  return parseExposureList(text, path);
}
