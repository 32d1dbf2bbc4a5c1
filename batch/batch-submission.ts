import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { sha256 } from "../lib/sha256";
import { shellQuote } from "../lib/shell-quote";
import { renderSubmitFile } from "../domain/submit-file";
import type { SubmitCommand } from "../domain/batch-system";
import { PIPELINE_PARTS } from "../domain/pipeline-parts";
import { EXPOSURES_FILE, exposureListText } from "../domain/exposure-list";
import { PIPELINE_IDENTITY } from "../domain/pipeline-identity";
import type { QueuePolicy } from "../domain/queue-policy";
import { deliverCommand, JOB_FILES, RUN_DIRECTORY_SCRIPTS, SCRIPTS, scriptText, type Script } from "../provisioning/scripts";
import { connectionAuth, type SshAuth } from "../lib/ssh-auth";
import { LOG_BOTH, SAME_AS_UNSET_LOGGING } from "../lib/command-logging";


/** The component's type token: part of every URN under it. */
export const BATCH_SUBMISSION_TYPE = "canfar:index:BatchSubmission";
/** Its children's ids: each is named `<name>-<id>`. */
export const BATCH_SUBMISSION_STEPS = {
  /** Delivers one file of the run directory. */
  deliver: (file: string) => `deliver-${file.replace(/[^A-Za-z0-9]+/g, "-")}`,
  certificate: "certificate",
  submit: "submit",
} as const;

/** What canfar_submit csv1 reads from the environment (the tutorial's sourced RC file). */
export interface OpenStackCredentials {
  authUrl: string;
  projectName: string;
  projectId: string;
  username: string;
  /** Keystone v3 needs it with a user name; omitted when the RC file has none. */
  userDomainName?: string;
  password: pulumi.Input<string>;
}

export interface BatchSubmissionArgs {
  /** The batch host (or the pool's submit node), its SSH port, the submitting user and how SSH authenticates. */
  host: pulumi.Input<string>;
  port: number;
  user: string;
  /** The host's public host key (`ssh-ed25519 AAAA...`): every connection refuses any other. */
  hostKey: pulumi.Input<string>;
  auth: SshAuth;
  /** Stack name, so two stacks of one user never share a run directory. */
  stack: string;
  /** The campaign: every exposure the stack declares; submit.sh queues those not yet catalogued. */
  ids: readonly string[];
  /**
   * The pipeline's identity (domain/pipeline-identity.ts), from the image's tool versions:
   * the jobs store `ID.P.cat`, and submit.sh skips exposures that already have one.
   */
  pipeline: pulumi.Input<string>;
  /** Which exposures submit.sh queues (domain/queue-policy.ts). */
  policy: QueuePolicy;
  /** Worker image name; waited for: the image component returns it only once active. */
  imageName: pulumi.Input<string>;
  workerFlavor: string;
  /** canfar_submit's generation, or `self-hosted`: condor_submit on the stack's own submit node. */
  mode: SubmitCommand;
  /**
   * The host's server, when the stack made it (the submit node): a new server is a new,
   * empty host, so everything is delivered and submitted there again.
   */
  hostServerId?: pulumi.Input<string>;
  /** What must exist first: the host's server and address; the pool's workers before submitting. */
  dependsOn?: pulumi.Resource[];
  /** Required for csv1. */
  credentials?: OpenStackCredentials;
  /** Where the catalogues go (`vos:...`, or a directory on a self-hosted pool's shared disk). */
  destination: string;
  /** The CADC account whose certificate the jobs carry, made on the batch host per submission. */
  cadc: { user: string; password: pulumi.Input<string> };
  /** How long the run may take: the jobs' certificate must outlive it. */
  expectedRunHours: number;
  /** Exposures per job (canfar:exposuresPerJob): the submit file's requests and submit.sh --per-job. Default 1. */
  exposuresPerJob?: number;
}

/** The jobs' certificate, in the run directory: the submit file's x509userproxy names it. */
export const JOB_PROXY = "cadcproxy.pem";
/** CADC's own default validity; longer runs ask for a day more than they need, up to CADC's 30. */
const DEFAULT_CERT_DAYS = 10;
const MAX_CERT_DAYS = 30;

/** Days of validity to ask for, so the certificate outlives a run of `hours`. */
export function certificateDays(hours: number): number {
  return Math.min(MAX_CERT_DAYS, Math.max(DEFAULT_CERT_DAYS, Math.ceil(hours / 24) + 1));
}

/** Each script by the name it is delivered under, with its text. */
const texts = (scripts: readonly Script[]): Record<string, string> => Object.fromEntries(scripts.map((s) => [s.name, scriptText(s)]));

/**
 * Tutorial step 10 on the batch host, as a campaign: a run directory per (exposures, image,
 * pipeline, policy, scripts) holding the pipeline, the submit file, the campaign's
 * exposures.txt and a fresh CADC certificate for the jobs (x509userproxy); then submit.sh,
 * once the image is active, lists the destination once and queues only the exposures the
 * policy asks for (by default those without a catalogue by this pipeline identity). So a
 * new run directory costs jobs only for what is not yet done: added IDs queue just those, a
 * new image with the same pipeline identity queues nothing. submit.sh is idempotent in its
 * run directory: a re-run (credentials rotated, say) prints the recorded result.
 */
export class BatchSubmission extends pulumi.ComponentResource {
  /** The submission itself: replaced exactly when a new run directory is. */
  readonly submit: remote.Command;
  /** The cluster submit.sh queued, or `none` when every exposure was already catalogued. */
  readonly clusterId: pulumi.Output<string>;
  readonly runDir: pulumi.Output<string>;
  /** Paste into a terminal to follow the run with a progress line (the campaign view when nothing was queued). */
  readonly followCommand: pulumi.Output<string>;
  /** Paste into a terminal for the whole campaign: done, running, idle, held, not yet submitted. */
  readonly campaignCommand: pulumi.Output<string>;

  constructor(name: string, args: BatchSubmissionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(BATCH_SUBMISSION_TYPE, name, {}, opts);
    if (args.mode === "csv1" && !args.credentials) {
      throw new Error(`BatchSubmission '${name}': mode csv1 needs OpenStack credentials for canfar_submit`);
    }
    const parent = { parent: this };
    const connection: types.input.remote.ConnectionArgs = { host: args.host, port: args.port, user: args.user, hostKey: args.hostKey, ...connectionAuth(args.auth) };
    // Rendered here first, with what is known now, so that bad IDs or requests fail before
    // any resource exists; the delivered file carries the image and the pipeline identity.
    const exposures = exposureListText(args.ids);
    const fileOptions = {
      flavor: args.workerFlavor,
      x509UserProxy: JOB_PROXY,
      transferInputFiles: PIPELINE_PARTS,
      exposuresPerJob: args.exposuresPerJob ?? 1,
    };
    renderSubmitFile({ ...fileOptions, environment: { CATALOGUE_DEST: args.destination } });
    const submitFile = pulumi.all([args.imageName, args.pipeline]).apply(([image, pipeline]) => {
      if (!PIPELINE_IDENTITY.test(pipeline)) throw new Error(`BatchSubmission '${name}': pipeline identity '${pipeline}' is not 12 lowercase hex digits`);
      // csv2 boots workers from the image the submit file names; the others are told on the command line.
      return renderSubmitFile({
        ...fileOptions,
        environment: { CATALOGUE_DEST: args.destination, CATALOGUE_PIPELINE: pipeline, CATALOGUE_IMAGE: image },
        ...(args.mode === "csv2" ? { vmImage: image } : {}),
      });
    });
    const files: Record<string, pulumi.Input<string>> = {
      // The jobs' files first, the submit file and the list, then the scripts that submit and
      // follow: this order names the delivery resources and goes into the run directory's hash.
      ...texts(JOB_FILES),
      "do_catalogue.sub": submitFile,
      [EXPOSURES_FILE]: exposures,
      ...texts(RUN_DIRECTORY_SCRIPTS),
    };
    // One hash per file, not the texts: with 10,000 exposures the list is 90 kB.
    const digests = pulumi.all(Object.values(files)).apply((texts) => texts.map((t) => sha256(t)));
    const runHash = pulumi
      .all([args.imageName, args.pipeline, digests, args.host, args.hostServerId])
      // The host and login too: another batch host or account (or a new submit node) is a new
      // submission there, not an update that would re-run submit.sh in a run directory that
      // host never had. The policy: submit.sh in a run directory only repeats what it did.
      .apply(([image, pipeline, sums, host, serverId]) =>
        sha256(
          image,
          pipeline,
          args.policy,
          args.mode,
          args.workerFlavor,
          host,
          args.user,
          ...(serverId === undefined ? [] : [serverId]),
          ...Object.keys(files).flatMap((file, i) => [file, sums[i] as string]),
        ).slice(0, 12),
      );
    const runDir = pulumi.interpolate`canfar-batch/runs/${args.stack}-${runHash}`;

    const delivered = Object.entries(files).map(
      ([file, content]) =>
        new remote.Command(
          `${name}-${BATCH_SUBMISSION_STEPS.deliver(file)}`,
          {
            connection,
            create: runDir.apply((d) => deliverCommand(d, file)),
            stdin: content,
            triggers: [runHash, pulumi.output(content).apply((c) => sha256(c))],
            // The command prints nothing on success, and its stdin is never logged.
            logging: LOG_BOTH,
          },
          { ...parent, ignoreChanges: [...SAME_AS_UNSET_LOGGING], ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}) },
        ),
    );

    // The jobs' certificate, fresh for each run directory (and again when the password
    // changes: stdin is an input, so the step re-runs). cadc-credentials.sh --cert-only
    // leaves no password on the batch host; quiesce left none in the image.
    const certificate = new remote.Command(
      `${name}-${BATCH_SUBMISSION_STEPS.certificate}`,
      {
        connection,
        create: runDir.apply((d) =>
          ["bash", shellQuote(`${d}/${SCRIPTS.cadcCredentials.name}`), "--user", shellQuote(args.cadc.user), "--cert-days", String(certificateDays(args.expectedRunHours)), "--cert-only", shellQuote(`${d}/${JOB_PROXY}`)].join(" "),
        ),
        stdin: pulumi.secret(pulumi.output(args.cadc.password).apply((p) => `${p}\n`)),
        triggers: [runHash],
        logging: "stderr",
      },
      { ...parent, dependsOn: delivered, additionalSecretOutputs: ["stdin"] },
    );

    const stdin = args.credentials ? credentialLines(args.credentials) : undefined;
    const submit = new remote.Command(
      `${name}-${BATCH_SUBMISSION_STEPS.submit}`,
      {
        connection,
        create: pulumi
          .all([runDir, args.imageName, args.pipeline])
          .apply(([dir, image, pipeline]) => submitCommand({ dir, image, pipeline, mode: args.mode, flavor: args.workerFlavor, destination: args.destination, policy: args.policy, expectedRunHours: args.expectedRunHours, exposuresPerJob: args.exposuresPerJob ?? 1 })),
        ...(stdin ? { stdin } : {}),
        triggers: [runHash],
        logging: "stderr",
      },
      { ...parent, dependsOn: [...delivered, certificate, ...(args.dependsOn ?? [])], additionalSecretOutputs: ["stdin"] },
    );
    this.submit = submit;
    const result = submit.stdout.apply(parseSubmitOutput);
    this.clusterId = result.apply((r) => r.cluster ?? NO_CLUSTER);
    this.runDir = result.apply((r) => r.runDir);
    const login = `ssh${args.port === 22 ? "" : ` -p ${args.port}`} ${args.user}@`;
    this.campaignCommand = pulumi.interpolate`${login}${args.host} bash ${runDir}/${SCRIPTS.campaign.name}`;
    // Nothing queued in this run directory: there is no cluster to follow, the campaign is.
    this.followCommand = pulumi
      .all([result, args.host, runDir, this.campaignCommand])
      .apply(([r, host, dir, campaign]) => (r.cluster === null ? campaign : `${login}${host} bash ${dir}/${SCRIPTS.follow.name} ${r.cluster}`));
    this.registerOutputs({ clusterId: this.clusterId, runDir: this.runDir, followCommand: this.followCommand, campaignCommand: this.campaignCommand });
  }
}

/** The clusterId output when submit.sh queued nothing (every exposure already catalogued). */
export const NO_CLUSTER = "none";

/** submit.sh's command line, every value quoted. */
export function submitCommand(o: {
  dir: string;
  image: string;
  pipeline: string;
  mode: SubmitCommand;
  flavor: string;
  destination: string;
  policy: QueuePolicy;
  expectedRunHours: number;
  exposuresPerJob: number;
}): string {
  return [
    "bash",
    shellQuote(`${o.dir}/${SCRIPTS.submit.name}`),
    "--run-dir",
    shellQuote(o.dir),
    "--mode",
    o.mode,
    "--image",
    shellQuote(o.image),
    ...(o.mode === "csv1" ? ["--flavor", shellQuote(o.flavor)] : []),
    "--proxy",
    JOB_PROXY,
    "--min-valid",
    String(o.expectedRunHours * 3600),
    "--dest",
    shellQuote(o.destination),
    "--pipeline",
    o.pipeline,
    "--policy",
    o.policy,
    "--exposures",
    EXPOSURES_FILE,
    // One a job is submit.sh's own default: the command stays as it was.
    ...(o.exposuresPerJob === 1 ? [] : ["--per-job", String(o.exposuresPerJob)]),
  ].join(" ");
}

/** KEY=VALUE lines for submit.sh's stdin; the whole text is a secret (it holds the password). */
export function credentialLines(c: OpenStackCredentials): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(c.password).apply((password) => credentialText({ ...c, password })));
}

/** The text of credentialLines, for plain values. */
export function credentialText(c: OpenStackCredentials & { password: string }): string {
  const lines: Array<[string, string | undefined]> = [
    ["OS_AUTH_URL", c.authUrl],
    ["OS_PROJECT_ID", c.projectId],
    ["OS_PROJECT_NAME", c.projectName],
    ["OS_USERNAME", c.username],
    ["OS_USER_DOMAIN_NAME", c.userDomainName],
    ["OS_PASSWORD", c.password],
  ];
  const present = lines.filter((l): l is [string, string] => l[1] !== undefined);
  // One pair per line: a line break inside a value would smuggle in another variable.
  const bad = present.find(([, v]) => /[\r\n]/.test(v));
  if (bad) throw new Error(`Error writing canfar_submit credentials: ${bad[0]} contains a line break`);
  return present.map(([k, v]) => `${k}=${v}\n`).join("");
}

export interface SubmitResult {
  /** null: nothing was queued (every exposure already catalogued, as the policy counts). */
  cluster: string | null;
  /** Jobs queued in this run directory. */
  jobs: number;
  /** The campaign's exposures, and how many of them were already catalogued. */
  total: number;
  done: number;
  pipeline: string;
  runDir: string;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** submit.sh prints exactly one JSON line on success. */
export function parseSubmitOutput(stdout: string): SubmitResult {
  const line = stdout.trim().split("\n").pop() ?? "";
  let parsed: Partial<Record<keyof SubmitResult, unknown>>;
  try {
    parsed = JSON.parse(line) as Partial<Record<keyof SubmitResult, unknown>>;
  } catch {
    throw new Error(`Error reading ${SCRIPTS.submit.name} output: expected one JSON line, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  const { cluster, jobs, total, done, pipeline, runDir } = parsed ?? {};
  const clusterOk = cluster === null ? jobs === 0 : typeof cluster === "string" && /^\d+$/.test(cluster);
  if (!clusterOk || (cluster !== null && typeof cluster !== "string") || !isCount(jobs) || !isCount(total) || !isCount(done) || typeof pipeline !== "string" || !PIPELINE_IDENTITY.test(pipeline) || typeof runDir !== "string") {
    throw new Error(`Error reading ${SCRIPTS.submit.name} output: expected {cluster (digits, or null when no job was queued), jobs, total, done, pipeline, runDir}, got ${line.slice(0, 200)}`);
  }
  return { cluster, jobs, total, done, pipeline, runDir };
}
