/**
 * The files do_catalogue.bash sources from its own directory (its `PARTS`; a test keeps the
 * two equal). Wherever the pipeline runs they must be beside it: installed with it on the
 * image, delivered into the run directory and sent with each job (transfer_input_files),
 * since HTCondor copies only the executable and what it is told to into the job's scratch.
 */
export const PIPELINE_PARTS: readonly string[] = [
  "catalogue-settings.bash",
  "catalogue-transfer.bash",
  "catalogue-headers.bash",
  "catalogue-extract.bash",
  "catalogue-check.bash",
  "catalogue-queue.bash",
];
