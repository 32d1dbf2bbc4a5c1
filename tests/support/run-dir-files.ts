/**
 * What the program delivers into a submission's run directory, pinned once for the tests
 * that hold the program to it (the glue's replay, the component tests, the campaign
 * preview): the scripts, the pipeline and its parts, the libraries they source, the submit
 * file and the campaign's exposures. A file added or dropped is a change to look at here.
 */
export const RUN_DIR_FILES: readonly string[] = [
  "cadc-credentials.sh",
  "campaign-jobs.sh",
  "campaign.sh",
  "catalogue-check.bash",
  "catalogue-extract.bash",
  "catalogue-headers.bash",
  "catalogue-queue.bash",
  "catalogue-settings.bash",
  "catalogue-transfer.bash",
  "cli.sh",
  "do_catalogue.bash",
  "do_catalogue.sub",
  "exposures.txt",
  "follow.sh",
  "submit.sh",
];

/** The delivery's resource name, as batch/batch-submission.ts makes it. */
export function deliveryName(file: string): string {
  return `batch-deliver-${file.replace(/[^A-Za-z0-9]+/g, "-")}`;
}
