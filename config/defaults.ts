/** Defaults follow the CANFAR batch tutorial, so an empty stack reproduces it. */
export const DEFAULTS = {
  cloud: "arbutus-canfar",
  image: "canfar-ubuntu-20.04",
  flavor: "c2-7.5gb-30",
  floatingIpPool: "Public-Network",
  scratchDevice: "/dev/vdb",
  snapshotPrefix: "image-reduction",
  snapshotTimeoutSeconds: 1800,
  expectedRunHours: 48,
  observationIds: ["1056215p", "1056216p", "1056217p", "1056218p"],
  /** Two workers: a pool that shows jobs running side by side, for two instances of quota. */
  workerCount: 2,
  /**
   * Exposures per batch job, overlapped (do_catalogue.bash ID ID...): measured with
   * `npm run bench:batch` (README, Throughput).
   */
  exposuresPerJob: 4,
} as const;
