import { renderSubmitFile } from "../../domain/submit-file";
import { PIPELINE_PARTS } from "../../domain/pipeline-parts";
import { PIPELINE_FILES, pipelineIdentity } from "../../domain/pipeline-identity";
import { pipelineFiles } from "../../image/pipeline-files";

/**
 * The seam between the campaign tests and the program: the files a campaign's run directory
 * gets besides the scripts (do_catalogue.sub, exposures.txt), as the contract of issue 22
 * says the program delivers them: its own renderSubmitFile (queueing from queue.txt) and
 * pipeline identity (domain/pipeline-identity.ts), for any IDs and identity a test needs
 * (tests/glue replays the deliveries the program declares for its stacks).
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
    flavor: run.flavor,
    environment: { CATALOGUE_DEST: run.dest, CATALOGUE_PIPELINE: run.pipeline, CATALOGUE_IMAGE: run.image },
    transferInputFiles: PIPELINE_PARTS,
    ...(run.x509UserProxy === undefined ? {} : { x509UserProxy: run.x509UserProxy }),
    ...(run.vmImage === undefined ? {} : { vmImage: run.vmImage }),
  });
  if (!rendered.includes(`\n${QUEUE_FROM_FILE}\n`)) throw new Error(`the submit file does not queue from queue.txt:\n${rendered}`);
  return rendered;
}

/** The run directory's campaign files, by name. */
export function campaignRunFiles(run: CampaignRun): Record<string, string> {
  return { "do_catalogue.sub": campaignSubmitFile(run), "exposures.txt": run.ids.map((id) => `${id}\n`).join("") };
}

/** What decides a catalogue's content: the program's list (domain/pipeline-identity.ts). */
export const IDENTITY_FILES = PIPELINE_FILES;

/**
 * The pipeline identity the program hands the jobs (domain/pipeline-identity.ts), for these
 * tool versions; `override` replaces a file's content (a changed catalogue.param).
 */
export function pipelineIdentityStandIn(toolVersions: readonly string[], override: Record<string, string> = {}): string {
  return pipelineIdentity({ ...pipelineFiles(), ...override }, toolVersions.join(" "));
}
