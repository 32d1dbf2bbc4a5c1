import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../lib/sha256";
import { shellQuote } from "../lib/shell-quote";
import { renderSubmitFile } from "../domain/submit-file";
import type { SubmitCommand } from "../domain/batch-system";
import { PIPELINE_PARTS } from "../domain/pipeline-parts";
import { REPO_ROOT } from "../lib/repo-root";
import { connectionAuth, type SshAuth } from "./ssh-auth";


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
  ids: readonly string[];
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
  /** Environment of every job (where the catalogues go). */
  jobEnvironment: Record<string, string>;
  /** The CADC account whose certificate the jobs carry, made on the batch host per submission. */
  cadc: { user: string; password: pulumi.Input<string> };
  /** How long the run may take: the jobs' certificate must outlive it. */
  expectedRunHours: number;
  /** Exposures per job (canfar:exposuresPerJob): the submit file's requests and submit.sh --per-job. Default 1. */
  exposuresPerJob?: number;
}

const WORKER = join(REPO_ROOT, "provisioning", "worker");
const PIPELINE = join(WORKER, "do_catalogue.bash");
const SUBMIT = join(REPO_ROOT, "provisioning", "batch-host", "submit.sh");
const FOLLOW = join(REPO_ROOT, "provisioning", "batch-host", "follow.sh");
const CREDENTIALS = join(REPO_ROOT, "provisioning", "shared", "cadc-credentials.sh");
/** What submit.sh and cadc-credentials.sh source: delivered beside them, where they look first. */
const CLI = join(REPO_ROOT, "provisioning", "lib", "cli.sh");
/** The jobs' certificate, in the run directory: the submit file's x509userproxy names it. */
export const JOB_PROXY = "cadcproxy.pem";
/** CADC's own default validity; longer runs ask for a day more than they need, up to CADC's 30. */
const DEFAULT_CERT_DAYS = 10;
const MAX_CERT_DAYS = 30;

/** Days of validity to ask for, so the certificate outlives a run of `hours`. */
export function certificateDays(hours: number): number {
  return Math.min(MAX_CERT_DAYS, Math.max(DEFAULT_CERT_DAYS, Math.ceil(hours / 24) + 1));
}

/**
 * Delivers a file by stdin, written aside then renamed: no CopyToRemote, so paths may be
 * home-relative. The one command line left here on purpose: it is the bootstrap that brings
 * every script to the batch host, so no script can do it (none is there yet). It stays four
 * plain commands in a row, private (umask 077) and atomic (rename), with no logic.
 */
export function deliverCommand(dir: string, file: string): string {
  const tmp = `${dir}/.${file}.partial`;
  return `umask 077 && mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(`${dir}/${file}`)}`;
}

/**
 * Tutorial step 10 on the batch host: a run directory per (IDs, image, script), the
 * pipeline script and the generated submit file in it, a fresh CADC certificate for the
 * jobs (x509userproxy) beside them, `canfar_submit` once the image is active. submit.sh succeeds only on condor_submit's "submitted to cluster" line and is
 * idempotent, so a re-run (credentials rotated, say) prints the same cluster; only a new
 * run directory, i.e. new IDs, image or script, submits again.
 */
export class BatchSubmission extends pulumi.ComponentResource {
  /** The submission itself: replaced exactly when a new run directory is. */
  readonly submit: remote.Command;
  readonly clusterId: pulumi.Output<string>;
  readonly runDir: pulumi.Output<string>;
  /** Paste into a terminal to follow the run with a progress line. */
  readonly followCommand: pulumi.Output<string>;

  constructor(name: string, args: BatchSubmissionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canfar:index:BatchSubmission", name, {}, opts);
    if (args.mode === "csv1" && !args.credentials) {
      throw new Error(`BatchSubmission '${name}': mode csv1 needs OpenStack credentials for canfar_submit`);
    }
    const parent = { parent: this };
    const connection: types.input.remote.ConnectionArgs = { host: args.host, port: args.port, user: args.user, hostKey: args.hostKey, ...connectionAuth(args.auth) };
    // Rendered here first so that bad IDs or requests fail before any resource exists.
    const fileOptions = {
      ids: args.ids,
      flavor: args.workerFlavor,
      environment: args.jobEnvironment,
      x509UserProxy: JOB_PROXY,
      transferInputFiles: PIPELINE_PARTS,
      exposuresPerJob: args.exposuresPerJob ?? 1,
    };
    const withoutImage = renderSubmitFile(fileOptions);
    // csv2 names the worker image inside the submit file, so that file waits for the image.
    const submitFile =
      args.mode === "csv2" ? pulumi.output(args.imageName).apply((image) => renderSubmitFile({ ...fileOptions, vmImage: image })) : withoutImage;
    const files: Record<string, pulumi.Input<string>> = {
      "do_catalogue.bash": readFileSync(PIPELINE, "utf8"),
      ...Object.fromEntries(PIPELINE_PARTS.map((part) => [part, readFileSync(join(WORKER, part), "utf8")])),
      "do_catalogue.sub": submitFile,
      "submit.sh": readFileSync(SUBMIT, "utf8"),
      "follow.sh": readFileSync(FOLLOW, "utf8"),
      "cadc-credentials.sh": readFileSync(CREDENTIALS, "utf8"),
      "cli.sh": readFileSync(CLI, "utf8"),
    };
    const contents = pulumi.all(files);
    const runHash = pulumi
      .all([args.imageName, contents, args.host, args.hostServerId])
      // The host and login too: another batch host or account (or a new submit node) is a new
      // submission there, not an update that would re-run submit.sh in a run directory that
      // host never had.
      .apply(([image, texts, host, serverId]) =>
        sha256(image, args.mode, args.workerFlavor, host, args.user, ...(serverId === undefined ? [] : [serverId]), ...Object.entries(texts).flat()).slice(0, 12),
      );
    const runDir = pulumi.interpolate`canfar-batch/runs/${args.stack}-${runHash}`;

    const delivered = Object.entries(files).map(
      ([file, content]) =>
        new remote.Command(
          `${name}-deliver-${file.replace(/[^A-Za-z0-9]+/g, "-")}`,
          {
            connection,
            create: runDir.apply((d) => deliverCommand(d, file)),
            stdin: content,
            triggers: [runHash, pulumi.output(content).apply((c) => sha256(c))],
          },
          args.dependsOn ? { ...parent, dependsOn: args.dependsOn } : parent,
        ),
    );

    // The jobs' certificate, fresh for each run directory (and again when the password
    // changes: stdin is an input, so the step re-runs). cadc-credentials.sh --cert-only
    // leaves no password on the batch host; quiesce left none in the image.
    const certificate = new remote.Command(
      `${name}-certificate`,
      {
        connection,
        create: runDir.apply((d) =>
          ["bash", shellQuote(`${d}/cadc-credentials.sh`), "--user", shellQuote(args.cadc.user), "--cert-days", String(certificateDays(args.expectedRunHours)), "--cert-only", shellQuote(`${d}/${JOB_PROXY}`)].join(" "),
        ),
        stdin: pulumi.secret(pulumi.output(args.cadc.password).apply((p) => `${p}\n`)),
        triggers: [runHash],
        logging: "stderr",
      },
      { ...parent, dependsOn: delivered, additionalSecretOutputs: ["stdin"] },
    );

    const stdin = args.credentials ? credentialLines(args.credentials) : undefined;
    const submit = new remote.Command(
      `${name}-submit`,
      {
        connection,
        create: pulumi
          .all([runDir, args.imageName])
          .apply(([dir, image]) =>
            [
              "bash",
              shellQuote(`${dir}/submit.sh`),
              "--run-dir",
              shellQuote(dir),
              "--mode",
              args.mode,
              "--image",
              shellQuote(image),
              ...(args.mode === "csv1" ? ["--flavor", shellQuote(args.workerFlavor)] : []),
              "--proxy",
              JOB_PROXY,
              "--min-valid",
              String(args.expectedRunHours * 3600),
              // One a job is submit.sh's own default: the command stays as it was.
              ...((args.exposuresPerJob ?? 1) === 1 ? [] : ["--per-job", String(args.exposuresPerJob)]),
            ].join(" "),
          ),
        ...(stdin ? { stdin } : {}),
        triggers: [runHash],
        logging: "stderr",
      },
      { ...parent, dependsOn: [...delivered, certificate, ...(args.dependsOn ?? [])], additionalSecretOutputs: ["stdin"] },
    );
    this.submit = submit;
    const result = submit.stdout.apply(parseSubmitOutput);
    this.clusterId = result.apply((r) => r.cluster);
    this.runDir = result.apply((r) => r.runDir);
    const port = args.port === 22 ? "" : ` -p ${args.port}`;
    this.followCommand = pulumi.interpolate`ssh${port} ${args.user}@${args.host} bash ${runDir}/follow.sh ${this.clusterId}`;
    this.registerOutputs({ clusterId: this.clusterId, runDir: this.runDir, followCommand: this.followCommand });
  }
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
  cluster: string;
  jobs: number;
  runDir: string;
}

/** submit.sh prints exactly one JSON line on success. */
export function parseSubmitOutput(stdout: string): SubmitResult {
  const line = stdout.trim().split("\n").pop() ?? "";
  let parsed: Partial<SubmitResult>;
  try {
    parsed = JSON.parse(line) as Partial<SubmitResult>;
  } catch {
    throw new Error(`Error reading submit.sh output: expected one JSON line, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof parsed.cluster !== "string" || !/^\d+$/.test(parsed.cluster) || typeof parsed.jobs !== "number" || typeof parsed.runDir !== "string") {
    throw new Error(`Error reading submit.sh output: expected {cluster, jobs, runDir}, got ${line.slice(0, 200)}`);
  }
  return { cluster: parsed.cluster, jobs: parsed.jobs, runDir: parsed.runDir };
}
