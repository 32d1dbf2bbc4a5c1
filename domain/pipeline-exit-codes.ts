/**
 * do_catalogue.bash's exit codes and what each means, as its --help lists them (a test keeps
 * the two equal). The submit file turns a failed job's code into a hold reason with these
 * words, so `condor_q -hold` says "download failed", not just "exited 3".
 */
export const PIPELINE_EXIT_CODES: ReadonlyMap<number, string> = new Map([
  [1, "internal or environment error (missing tool or configuration)"],
  [2, "bad arguments or settings"],
  [3, "download failed (ID.fits.fz missing or unreachable)"],
  [4, "decompression failed (funpack: corrupt or not a FITS file)"],
  [5, "source extraction failed (source-extractor)"],
  [6, "upload failed (nothing is left at the destination)"],
  [7, "catalogue check failed (blank or implausible: nothing is stored)"],
]);
