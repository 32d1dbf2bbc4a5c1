import { parseFlavor, type Flavor } from "./flavor";
import { isImageName } from "./image-name";
import { PIPELINE_EXIT_CODES } from "./pipeline-exit-codes";

/** What `do_catalogue.sub` is generated from. */
export interface SubmitFileOptions {
  /**
   * The file of job arguments, one job a line (`queue arguments from FILE`), relative to the
   * submit directory. Default QUEUE_FILE, which submit.sh writes at submit time: the
   * campaign's exposures not yet catalogued, so the submit file itself never lists IDs.
   */
  queueFile?: string;
  /** The pipeline script transferred to each worker. Default `do_catalogue.bash`. */
  executable?: string;
  /** Worker flavor, by name (`c2-7.5gb-30`) or by size; requests are fitted to it. */
  flavor: string | Flavor;
  /** Default: all the flavor's vCPUs. */
  requestCpus?: number;
  /** Default: the flavor's RAM less headroom for the OS and HTCondor (see fitResources). */
  requestMemoryMb?: number;
  /**
   * Default JOB_DISK_KB (4 GiB). Where there is an ephemeral disk the request must fit on it;
   * a flavor without one is taken on trust (the worker's root disk size is not in its name).
   */
  requestDiskKb?: number;
  /** Variables for the job, e.g. `{ CATALOGUE_DEST: "vos:me/catalogues" }`. */
  environment?: Readonly<Record<string, string>>;
  /** Directory (on the submit host) for each job's .out/.err/.log; the submit directory when unset. */
  logDir?: string;
  /**
   * The worker image, written as `+VMImage`: CANFAR's CSV2 batch system boots workers from
   * the image a job names there (its user guide lists it among the required lines). Unset
   * for csv1, whose canfar_submit generates the image requirement itself.
   */
  vmImage?: string;
  /**
   * The proxy certificate each job carries (`x509userproxy`), relative to the submit
   * directory: HTCondor sends it with the job, renews the job's copy when the file is
   * renewed, and points `X509_USER_PROXY` at it; the pipeline's CADC calls use it.
   */
  x509UserProxy?: string;
  /**
   * Files sent with each job beside the executable (`transfer_input_files`), relative to the
   * submit directory: the parts the pipeline sources (domain/pipeline-parts.ts).
   */
  transferInputFiles?: readonly string[];
  /**
   * Exposures per job (`canfar:exposuresPerJob`, default 1): each line of the queue holds
   * this many IDs, which do_catalogue.bash processes overlapped (catalogue-queue.bash). The
   * disk request grows by the exposure fetched ahead and the catalogues (jobDiskKb).
   */
  exposuresPerJob?: number;
}

/** All problems with a SubmitFileOptions, reported together. */
export class SubmitFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`cannot write the submit file:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SubmitFileError";
  }
}

export interface Resources {
  cpus: number;
  memoryMb: number;
  diskKb: number | undefined;
}

const MB_PER_GB = 1024;
const KB_PER_GB = 1024 * 1024;

/**
 * One exposure needs about 1.1 GB in the job's scratch directory (339 MB .fz, 680 MB
 * unpacked, the catalogue). CANFAR's workers put HTCondor's EXECUTE directory either on
 * the ephemeral disk (canfar_batch_init: /mnt/condor) or on the root disk (the csv2
 * worker cloud-config: /var/lib/condor/execute), whose size the flavor name does not
 * give: asking for the whole ephemeral disk could match no worker at all and leave the
 * jobs idle for ever, so the default asks for a few times what a job uses.
 */
export const JOB_DISK_KB = 4 * KB_PER_GB;

/** The largest exposure's `.fz` (MegaCam: 0.5-1 GB): what a job fetches ahead of the one it extracts. */
export const LOOKAHEAD_KB = 1 * KB_PER_GB;
/** A merged catalogue with its provenance, generously (the tutorial's are a few MB). */
export const CATALOGUE_KB = 32 * 1024;
/** The most exposures one job may take: beyond it a held job's retry redoes too little to matter. */
export const MAX_EXPOSURES_PER_JOB = 64;

/**
 * The scratch a job of K exposures needs: one exposure's today (JOB_DISK_KB) and, with
 * K > 1, the next exposure fetched ahead (at most one: about 2x the largest exposure in
 * all) and the catalogues waiting for their upload.
 */
export function jobDiskKb(exposuresPerJob: number): number {
  return exposuresPerJob === 1 ? JOB_DISK_KB : JOB_DISK_KB + LOOKAHEAD_KB + exposuresPerJob * CATALOGUE_KB;
}

/**
 * The most a job may request on one worker of this flavor. HTCondor advertises what the
 * kernel sees, which is less than the flavor's nominal size, and a job asking for more
 * than a slot has sits idle for ever: keep 15% (at least 1 GB) of RAM and 10% (at least
 * 1 GB) of the ephemeral disk for the OS, HTCondor and the file system's own reserve.
 */
export function fitResources(flavor: Flavor): Resources {
  const ramMb = flavor.ramGb * MB_PER_GB;
  const diskKb = flavor.ephemeralGb * KB_PER_GB;
  return {
    cpus: flavor.vcpus,
    memoryMb: Math.floor(ramMb - Math.max(MB_PER_GB, ramMb * 0.15)),
    diskKb: flavor.ephemeralGb === 0 ? undefined : Math.floor(diskKb - Math.max(KB_PER_GB, diskKb * 0.1)),
  };
}

/** What submit.sh writes beside the submit file: one line of arguments (exposure IDs) per job. */
export const QUEUE_FILE = "queue.txt";

// Anything condor_submit would read as a macro, a quote or a line break.
const PATH_LIKE = /^[A-Za-z0-9._/+-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders the tutorial's do_catalogue.sub for `opts`; throws SubmitFileError listing every problem. */
export function renderSubmitFile(opts: SubmitFileOptions): string {
  const problems: string[] = [];
  const executable = opts.executable ?? "do_catalogue.bash";
  if (!PATH_LIKE.test(executable)) {
    problems.push(`executable '${executable}' must be a file name of letters, digits and . _ / + -`);
  }
  if (opts.logDir !== undefined && !PATH_LIKE.test(opts.logDir)) {
    problems.push(`logDir '${opts.logDir}' must be a path of letters, digits and . _ / + -`);
  }
  if (opts.x509UserProxy !== undefined && !PATH_LIKE.test(opts.x509UserProxy)) {
    problems.push(`x509UserProxy '${opts.x509UserProxy}' must be a path of letters, digits and . _ / + -`);
  }
  for (const file of opts.transferInputFiles ?? []) {
    if (!PATH_LIKE.test(file)) problems.push(`transferInputFiles: '${file}' must be a path of letters, digits and . _ / + -`);
  }
  if (opts.vmImage !== undefined && !isImageName(opts.vmImage)) {
    problems.push(`vmImage '${opts.vmImage}' must be an image name: up to 255 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  const queueFile = opts.queueFile ?? QUEUE_FILE;
  if (!PATH_LIKE.test(queueFile)) problems.push(`queueFile '${queueFile}' must be a path of letters, digits and . _ / + -`);
  const perJob = opts.exposuresPerJob ?? 1;
  if (!Number.isSafeInteger(perJob) || perJob < 1 || perJob > MAX_EXPOSURES_PER_JOB) {
    problems.push(`exposuresPerJob must be a whole number from 1 to ${MAX_EXPOSURES_PER_JOB}, got ${perJob}`);
  }
  const resources = resourceRequests(opts, Number.isSafeInteger(perJob) && perJob >= 1 ? perJob : 1, problems);
  const environment = environmentLine(opts.environment ?? {}, problems);
  if (problems.length > 0 || resources === undefined) throw new SubmitFileError(problems);

  const stem = (executable.split("/").pop() ?? executable).replace(/\.[^.]*$/, "");
  const prefix = opts.logDir === undefined ? "" : `${opts.logDir.replace(/\/$/, "")}/`;
  const flavorName = typeof opts.flavor === "string" ? opts.flavor : "the given flavor";
  // A line of several IDs would name the logs with spaces: those jobs go by cluster and process.
  const logName = perJob === 1 ? "$(arguments)" : "$(Cluster).$(Process)";
  const lines = [
    perJob === 1
      ? `# ${stem}.sub: one ${stem} job per line of ${queueFile}, sized for ${flavorName}.`
      : `# ${stem}.sub: one ${stem} job per line of ${queueFile} (up to ${perJob} exposures each), sized for ${flavorName}.`,
    "# Generated by canfar-batch; submit.sh writes the queue file (the exposures to catalogue) and submits it.",
    `executable = ${executable}`,
    "",
    `output = ${prefix}${stem}-${logName}.out`,
    `error  = ${prefix}${stem}-${logName}.err`,
    `log    = ${prefix}${stem}-${logName}.log`,
    "",
    "should_transfer_files   = YES",
    "when_to_transfer_output = ON_EXIT",
    ...(opts.transferInputFiles === undefined || opts.transferInputFiles.length === 0
      ? []
      : ["# What the executable sources from its own directory: HTCondor copies nothing it is not told to.", `transfer_input_files = ${opts.transferInputFiles.join(", ")}`]),
    ...(opts.x509UserProxy === undefined ? [] : ["# The CADC certificate this submission made: HTCondor sets X509_USER_PROXY to the job's copy.", `x509userproxy = ${opts.x509UserProxy}`]),
    "",
    `request_cpus   = ${resources.cpus}`,
    `request_memory = ${resources.memoryMb}`,
    `request_disk   = ${resources.diskKb}`,
    "",
    ...failedJobHold(stem, perJob > 1),
  ];
  if (opts.vmImage !== undefined) lines.push("", `+VMImage = "${opts.vmImage}"`);
  if (environment !== undefined) lines.push("", environment);
  // A line's words are that job's arguments: its exposure IDs.
  lines.push("", `queue arguments from ${queueFile}`, "");
  return lines.join("\n");
}

/**
 * A failed job is held rather than completed: with thousands of jobs, an exit code in the
 * history is easy to miss, a held job stays in condor_q with its reason until someone acts.
 * `condor_release CLUSTER` then runs exactly the failed jobs again, with the same IDs.
 * The reason spells out the pipeline's exit code; the subcode is the code itself.
 */
function failedJobHold(stem: string, several: boolean): string[] {
  const codes = [...PIPELINE_EXIT_CODES];
  // A job of several exposures names its failed ones (with their classes) in its own ad
  // through condor_chirp, which needs the job's I/O proxy; the reason then shows them.
  const failures = several ? [`    ifThenElse(isUndefined(CatalogueFailures), "", strcat(" (failed: ", CatalogueFailures, ")"))))`] : [];
  return [
    ...(several ? ["+WantIOProxy = true"] : []),
    "# A failed job is held with its reason instead of completing: condor_q -hold CLUSTER",
    "# lists them, condor_release CLUSTER runs just those again (follow.sh prints both).",
    "on_exit_hold         = (ExitBySignal =?= true) || (ExitCode =!= 0)",
    "on_exit_hold_subcode = ifThenElse(ExitBySignal =?= true, ExitSignal, ExitCode)",
    `on_exit_hold_reason  = ifThenElse(ExitBySignal =?= true, strcat("${stem} killed by signal ", ExitSignal), \\`,
    `    strcat("${stem} exited ", ExitCode, ": ", \\`,
    ...codes.map(([code, text]) => `    ifThenElse(ExitCode == ${code}, "${text}", \\`),
    `    "see the job's .err file"${")".repeat(codes.length)}${several ? ", \\" : "))"}`,
    ...failures,
  ];
}

/** Requests checked against the flavor: a job that cannot fit on a worker never starts. */
function resourceRequests(opts: SubmitFileOptions, perJob: number, problems: string[]): { cpus: number; memoryMb: number; diskKb: number } | undefined {
  const flavor = typeof opts.flavor === "string" ? parseFlavor(opts.flavor) : opts.flavor;
  if (typeof flavor === "string") {
    problems.push(`flavor: ${flavor}`);
    return undefined;
  }
  const max = fitResources(flavor);
  const check = (name: string, value: number | undefined, limit: number | undefined, unit: string): number | undefined => {
    if (value === undefined) return limit;
    if (!Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive whole number of ${unit}, got ${value}`);
      return undefined;
    }
    if (limit !== undefined && value > limit) {
      problems.push(`${name} ${value} does not fit flavor '${flavorLabel(opts.flavor)}': at most ${limit} ${unit}`);
      return undefined;
    }
    return value;
  };
  const cpus = check("requestCpus", opts.requestCpus, max.cpus, "CPUs");
  const memoryMb = check("requestMemoryMb", opts.requestMemoryMb, max.memoryMb, "MB");
  const need = jobDiskKb(perJob);
  if (perJob > 1 && max.diskKb !== undefined && need > max.diskKb) {
    problems.push(
      `exposuresPerJob ${perJob} needs ${need} KB of scratch (one exposure, the next fetched ahead, ${perJob} catalogues) but flavor '${flavorLabel(opts.flavor)}' offers at most ${max.diskKb} KB: use fewer exposures per job or a flavor with a larger ephemeral disk`,
    );
    return undefined;
  }
  const defaultDiskKb = max.diskKb === undefined ? need : Math.min(need, max.diskKb);
  const diskKb = check("requestDiskKb", opts.requestDiskKb ?? defaultDiskKb, max.diskKb, "KB");
  if (cpus === undefined || memoryMb === undefined || diskKb === undefined) return undefined;
  return { cpus, memoryMb, diskKb };
}

function flavorLabel(flavor: string | Flavor): string {
  return typeof flavor === "string" ? flavor : `${flavor.vcpus} vCPU, ${flavor.ramGb} GB RAM, ${flavor.ephemeralGb} GB disk`;
}

/**
 * HTCondor's quoted environment syntax: "A='x' B='y z'", with ' and " doubled.
 * `$` is refused: condor_submit would expand $(...) as a macro.
 */
function environmentLine(env: Readonly<Record<string, string>>, problems: string[]): string | undefined {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      problems.push(`environment: '${name}' is not a variable name (letters, digits and _, not starting with a digit)`);
    } else if (/[\n\r$]/.test(value)) {
      problems.push(`environment ${name}: the value must not contain a line break or '$'`);
    } else {
      pairs.push(`${name}='${value.replace(/'/g, "''").replace(/"/g, '""')}'`);
    }
  }
  return pairs.length === 0 ? undefined : `environment = "${pairs.join(" ")}"`;
}
