import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { PIPELINE_PARTS } from "../domain/pipeline-parts";
import { REPO_ROOT } from "../lib/repo-root";
import { shellQuote } from "../lib/shell-quote";

/**
 * The registry of this folder: every file here (but this one and the READMEs) named once,
 * with the hosts it runs on and the ways it gets there. The only place TypeScript outside
 * tests spells a script's path or name: the program's stages take both from here, so a
 * moved or renamed script is one edit, and tests/structure holds the folders to the hosts.
 */

/** Where a file is used: its folder says the same (shared/ and lib/ excepted). */
export type Host =
  /** The machine running `pulumi up`. */
  | "local"
  | "build-vm"
  /** A CANFAR batch host, or a self-hosted pool's submit node. */
  | "batch-host"
  /** A self-hosted pool's node (submit node or worker), at its first boot. */
  | "pool-node"
  /** The workers booted from the image, running the pipeline. */
  | "worker";

/** How a file gets to where it is used. */
export type Route =
  /** Run from the checkout by a `local.Command` (dir: the repository). */
  | "in-place"
  /** Copied to the build VM over SSH: by the provisioning plan, or the snapshot's own copies. */
  | "copied"
  /** Written by a user-data's `write_files`, run by cloud-init. */
  | "user-data"
  /** Delivered on standard input into a directory of the batch host (`deliverCommand`). */
  | "stdin"
  /** Installed on the build VM, so in the worker image. */
  | "image"
  /** Sent with each job from the run directory (the submit file's transfer_input_files). */
  | "jobs";

export interface Script {
  /** Path under provisioning/: its first folder says where it runs. */
  readonly file: string;
  /** Its file name: the name it is staged, delivered or written under wherever it goes. */
  readonly name: string;
  readonly hosts: readonly Host[];
  readonly routes: readonly Route[];
  /** What it sources or runs from beside it: those travel with it. */
  readonly uses: readonly Script[];
}

function entry(file: string, hosts: readonly Host[], routes: readonly Route[], uses: readonly Script[] = []): Script {
  return { file, name: basename(file), hosts, routes, uses };
}

/** The folder's name in the repository: local commands run relative to its root. */
const FOLDER = "provisioning";
/** This folder, on the machine running `pulumi up`. */
export const PROVISIONING_DIR = join(REPO_ROOT, FOLDER);

// lib/ first: everything else may source it.
const cli = entry("lib/cli.sh", ["local", "build-vm", "batch-host"], ["in-place", "copied", "stdin"]);

const openstackCli = entry("local/openstack-cli.sh", ["local"], ["in-place"], [cli]);
const createImage = entry("local/create-image.sh", ["local"], ["in-place"], [openstackCli]);
const local = {
  generateHostKey: entry("local/generate-host-key.sh", ["local"], ["in-place"]),
  startServer: entry("local/start-server.sh", ["local"], ["in-place"], [openstackCli]),
  makeImage: entry("local/make-image.sh", ["local"], ["in-place"], [cli, createImage]),
  createImage,
  deleteImage: entry("local/delete-image.sh", ["local"], ["in-place"], [openstackCli]),
  deleteServer: entry("local/delete-server.sh", ["local"], ["in-place"], [openstackCli]),
  openstackCli,
};

const buildVm = {
  checkTools: entry("build-vm/check-tools.sh", ["build-vm"], ["user-data"]),
  waitCloudInit: entry("build-vm/wait-cloud-init.sh", ["build-vm"], ["copied"]),
  createUser: entry("build-vm/create-user.sh", ["build-vm"], ["copied"], [cli]),
  setupScratch: entry("build-vm/setup-scratch.sh", ["build-vm"], ["copied"], [cli]),
  installPipeline: entry("build-vm/install-pipeline.sh", ["build-vm"], ["copied"], [cli]),
  smokeTest: entry("build-vm/smoke-test.sh", ["build-vm"], ["copied"], [cli]),
  // The snapshot's own copies, right before the image is made.
  quiesce: entry("build-vm/quiesce.sh", ["build-vm"], ["copied"]),
  packageVersions: entry("build-vm/package-versions.sh", ["build-vm"], ["copied"]),
};

const shared = {
  // Staged on the build VM (its ~/.netrc) and in each run directory (the jobs' certificate).
  cadcCredentials: entry("shared/cadc-credentials.sh", ["build-vm", "batch-host"], ["copied", "stdin"], [cli]),
};

const campaignJobs = entry("batch-host/campaign-jobs.sh", ["batch-host"], ["stdin"]);
const batchHost = {
  submit: entry("batch-host/submit.sh", ["batch-host"], ["stdin"], [cli, campaignJobs]),
  follow: entry("batch-host/follow.sh", ["batch-host"], ["stdin"]),
  campaign: entry("batch-host/campaign.sh", ["batch-host"], ["stdin"], [cli, campaignJobs]),
  campaignJobs,
  // Into the submit node's pool directory, not a run directory (pool/worker-group.ts).
  drainWorker: entry("batch-host/drain-worker.sh", ["batch-host"], ["stdin"]),
};

const poolNode = {
  startHtcondor: entry("pool-node/start-htcondor.sh", ["pool-node"], ["user-data"]),
};

/** The pipeline's parts: installed with it and sent with each job, since it sources them. */
const parts = Object.fromEntries(PIPELINE_PARTS.map((name) => [name, entry(`worker/${name}`, ["worker"], ["copied", "image", "stdin", "jobs"])]));
const part = (name: string): Script => {
  const found = parts[name];
  if (found === undefined) throw new Error(`provisioning/scripts.ts: pipeline part ${name} is not registered`);
  return found;
};
const config = (name: string) => entry(`worker/${name}`, ["worker"], ["copied", "image"]);
const worker = {
  pipeline: entry("worker/do_catalogue.bash", ["worker"], ["copied", "image", "stdin", "jobs"], PIPELINE_PARTS.map(part)),
  catalogueSettings: part("catalogue-settings.bash"),
  catalogueTransfer: part("catalogue-transfer.bash"),
  catalogueHeaders: part("catalogue-headers.bash"),
  catalogueExtract: part("catalogue-extract.bash"),
  catalogueCheck: part("catalogue-check.bash"),
  catalogueQueue: part("catalogue-queue.bash"),
  mergeCatalogues: config("merge-catalogues.awk"),
  sextractorConfig: config("catalogue.sex"),
  sextractorParameters: config("catalogue.param"),
  sextractorFilter: config("default.conv"),
  sextractorNetwork: config("default.nnw"),
  // The sample of the smoke test, which runs the installed pipeline once on the build VM:
  // staged for it, never installed.
  smokeExposure: entry("worker/smoke/1056213p.fits.fz", ["worker"], ["copied"]),
  smokeStars: entry("worker/smoke/1056213p.stars.tsv", ["worker"], ["copied"]),
};

/**
 * Every file of provisioning/, by the name the program uses for it. The READMEs are for
 * readers of this repository and have no entry, so nothing stages them: a typo fixed in
 * worker/README.md changes no content hash and makes no new worker image.
 */
export const SCRIPTS = { cli, ...local, ...buildVm, ...shared, ...batchHost, ...poolNode, ...worker } as const;

export const ALL_SCRIPTS: readonly Script[] = Object.values(SCRIPTS);

/** Where the pipeline and what it reads live here (the default of pipelineFiles). */
export const WORKER_DIR = join(PROVISIONING_DIR, "worker");

/** A file's path on the machine running `pulumi up`; `root` stands in for this folder in tests. */
export function localPath(script: Script, root: string = PROVISIONING_DIR): string {
  return join(root, script.file);
}

export function scriptText(script: Script): string {
  return readFileSync(localPath(script), "utf8");
}

function requireRoute(script: Script, route: Route): void {
  if (!script.routes.includes(route)) throw new Error(`provisioning/scripts.ts: ${script.file} is not registered as ${route}`);
}

/** The command a `local.Command` (dir: the repository) starts a local script with; arguments follow. */
export function inPlaceCommand(script: Script): string {
  requireRoute(script, "in-place");
  return `bash ${FOLDER}/${script.file}`;
}

/** Where a user-data writes a script (no script is staged yet when cloud-init runs). */
export function userDataPath(script: Script): string {
  requireRoute(script, "user-data");
  return `/usr/local/libexec/canfar-batch/${script.name}`;
}

/**
 * The folder the pipeline's files are staged in on the build VM, and its smoke sample's.
 * The staged names are the VM's layout as it was before the folders said where scripts run:
 * a name is part of the content hash, so a move here must not make a new worker image.
 */
export const STAGED_PIPELINE = "pipeline";
export const STAGED_SMOKE = `${STAGED_PIPELINE}/smoke`;

/** A copied file's name under the build VM's staging directory. */
export function stagedName(script: Script): string {
  requireRoute(script, "copied");
  const [folder, ...rest] = script.file.split("/");
  return folder === "worker" ? join(STAGED_PIPELINE, ...rest) : script.name;
}

/** What install-pipeline.sh installs: the worker files that go into the image, in staging order. */
export const PIPELINE_INSTALLED: readonly Script[] = ALL_SCRIPTS.filter((s) => s.routes.includes("image")).sort(byFile);
/** The smoke test's sample, in staging order. */
export const SMOKE_SAMPLE: readonly Script[] = [worker.smokeExposure, worker.smokeStars].sort(byFile);

function byFile(a: Script, b: Script): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** What each job carries: the pipeline and its parts, in the order of the submit file. */
export const JOB_FILES: readonly Script[] = [worker.pipeline, ...PIPELINE_PARTS.map(part)];

/** The scripts delivered into each run directory beside the jobs' files, in delivery order. */
export const RUN_DIRECTORY_SCRIPTS: readonly Script[] = [batchHost.submit, batchHost.follow, batchHost.campaign, campaignJobs, shared.cadcCredentials, cli];

/**
 * Delivers a file by stdin, written aside then renamed: no CopyToRemote, so paths may be
 * home-relative. The one command line left in TypeScript on purpose: it is the bootstrap that
 * brings every script to the batch host, so no script can do it (none is there yet). It stays
 * four plain commands in a row, private (umask 077) and atomic (rename), with no logic.
 */
export function deliverCommand(dir: string, file: string): string {
  const tmp = `${dir}/.${file}.partial`;
  return `umask 077 && mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(`${dir}/${file}`)}`;
}
