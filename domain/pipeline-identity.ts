import { createHash } from "node:crypto";
import { PIPELINE_PARTS } from "./pipeline-parts";

/**
 * What decides a catalogue's content, and nothing else: the pipeline and the parts it
 * sources, the merge, SExtractor's configuration, parameter, filter and star/galaxy network files. Not the
 * README, not the smoke sample, not the image's other packages: a change of those makes no
 * other catalogue, so it must not re-queue a survey.
 */
export const PIPELINE_FILES: readonly string[] = [
  "do_catalogue.bash",
  ...PIPELINE_PARTS,
  "merge-catalogues.awk",
  "catalogue.sex",
  "catalogue.param",
  "default.conv",
  "default.nnw",
].sort();

/** Twelve lowercase hex digits: what `ID.P.cat` carries at the destination. */
export const PIPELINE_IDENTITY = /^[0-9a-f]{12}$/;

/**
 * The package-versions output (`source-extractor=2.25.0+ds-3 libcfitsio-bin=4.2.0-3 `),
 * pairs sorted and single-spaced: the order the package manager answers in is no change.
 */
export function toolVersionsText(packageVersions: string): string {
  return packageVersions
    .split(/\s+/)
    .filter((pair) => pair !== "")
    .sort()
    .join(" ");
}

/**
 * The pipeline's identity: sha256 of a version tag, each file of PIPELINE_FILES (name, then
 * content, each NUL-terminated) and the tool versions text, first 12 hex digits. Equal inputs
 * give the same identity wherever it is computed; the shell side never recomputes it, it is
 * handed over (`submit.sh --pipeline`, CATALOGUE_PIPELINE).
 */
export function pipelineIdentity(files: Readonly<Record<string, string>>, packageVersions: string): string {
  const missing = PIPELINE_FILES.filter((name) => files[name] === undefined);
  if (missing.length > 0) throw new Error(`pipeline identity: missing ${missing.join(", ")}`);
  const h = createHash("sha256");
  const part = (text: string) => h.update(text).update("\0");
  part("canfar-batch pipeline v1");
  for (const name of PIPELINE_FILES) {
    part(name);
    part(files[name] as string);
  }
  part(toolVersionsText(packageVersions));
  return h.digest("hex").slice(0, 12);
}
