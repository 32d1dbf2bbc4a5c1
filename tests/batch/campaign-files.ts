import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";

/**
 * The seam between the campaign tests and the program: the files a campaign's run directory
 * gets besides the scripts (do_catalogue.sub, exposures.txt), as the contract of issue 22
 * says the program delivers them. Until the program's side (BatchSubmission, renderSubmitFile
 * queueing from queue.txt, domain/pipeline-identity.ts) is merged, they are made here; after,
 * this is the one place to replace with the program's declared deliveries.
 */
export interface CampaignRun {
  ids: readonly string[];
  flavor: string;
  /** CATALOGUE_DEST of every job, and submit.sh's --dest. */
  dest: string;
  /** The pipeline's identity P: CATALOGUE_PIPELINE, and submit.sh's --pipeline. */
  pipeline: string;
  image: string;
  /** csv2 names the image inside the submit file. */
  vmImage?: string;
  /** The jobs' certificate in the run directory (x509userproxy). */
  x509UserProxy?: string;
}

export const QUEUE_FROM_FILE = "queue arguments from queue.txt";

/** do_catalogue.sub as rendered for the run, its IDs replaced by the contract's `queue arguments from queue.txt`. */
export function campaignSubmitFile(run: CampaignRun): string {
  const rendered = renderSubmitFile({
    ids: run.ids,
    flavor: run.flavor,
    environment: { CATALOGUE_DEST: run.dest, CATALOGUE_PIPELINE: run.pipeline, CATALOGUE_IMAGE: run.image },
    transferInputFiles: PIPELINE_PARTS,
    ...(run.x509UserProxy === undefined ? {} : { x509UserProxy: run.x509UserProxy }),
    ...(run.vmImage === undefined ? {} : { vmImage: run.vmImage }),
  });
  // Once renderSubmitFile queues from queue.txt itself, there is nothing to replace.
  const file = rendered.replace(/^queue arguments from \([^)]*\)\n/m, `${QUEUE_FROM_FILE}\n`);
  if (!file.includes(`\n${QUEUE_FROM_FILE}\n`)) throw new Error(`the submit file does not queue from queue.txt:\n${file}`);
  return file;
}

/** The run directory's campaign files, by name. */
export function campaignRunFiles(run: CampaignRun): Record<string, string> {
  return { "do_catalogue.sub": campaignSubmitFile(run), "exposures.txt": run.ids.map((id) => `${id}\n`).join("") };
}

const WORKER = resolve(__dirname, "../../provisioning/worker");
/** What decides a catalogue's content, per the contract: the pipeline, its parts, the merge and SExtractor's files. */
export const IDENTITY_FILES = ["do_catalogue.bash", ...PIPELINE_PARTS, "merge-catalogues.awk", "catalogue.sex", "catalogue.param", "default.conv"];

/**
 * The contract's pipeline identity, computed as domain/pipeline-identity.ts will:
 * sha256("canfar-batch pipeline v1", each file's name and content in sorted order, the sorted
 * tool versions text), 12 hex digits. `override` replaces a file's content (a changed
 * catalogue.param). A stand-in until the program's function lands.
 */
export function pipelineIdentityStandIn(toolVersions: readonly string[], override: Record<string, string> = {}): string {
  const h = createHash("sha256");
  h.update("canfar-batch pipeline v1");
  for (const name of [...IDENTITY_FILES].sort()) {
    h.update(name);
    h.update(override[name] ?? readFileSync(join(WORKER, name), "utf8"));
  }
  h.update([...toolVersions].sort().join(" "));
  return h.digest("hex").slice(0, 12);
}
