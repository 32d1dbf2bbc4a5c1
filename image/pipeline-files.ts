import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PIPELINE_FILES, pipelineIdentity } from "../domain/pipeline-identity";
import { WORKER_DIR } from "../provisioning/scripts";

/** The pipeline's files as this checkout has them (the ones the image installs and the run directory gets). */
export function pipelineFiles(dir: string = WORKER_DIR): Record<string, string> {
  return Object.fromEntries(PIPELINE_FILES.map((name) => [name, readFileSync(join(dir, name), "utf8")]));
}

/** This checkout's pipeline identity for the image's recorded tool versions. */
export function checkoutPipelineIdentity(packageVersions: string): string {
  return pipelineIdentity(pipelineFiles(), packageVersions);
}
