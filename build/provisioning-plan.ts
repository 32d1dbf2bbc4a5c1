import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { sha256 } from "../lib/sha256";
import { shellQuote } from "../lib/shell-quote";
import { localPath, PIPELINE_INSTALLED, PROVISIONING_DIR, SCRIPTS, SMOKE_SAMPLE, STAGED_PIPELINE, STAGED_SMOKE, stagedName, type Script } from "../provisioning/scripts";

/** Kept here for the plan's tests: the registry (provisioning/scripts.ts) says where it is. */
export { PROVISIONING_DIR };

/** What the steps need to know; all of it already validated by the config schema. */
export interface PlanContext {
  /** The image's default login (`ubuntu`), holding the key cloud-init injected. */
  defaultUser: string;
  /** The CADC user created on the VM (tutorial step 5). */
  cadcUser: string;
  /** Ephemeral disk mounted on /mnt when nothing is (tutorial step 7). */
  scratchDevice: string;
  /** Upper bound on waiting for cloud-init's package install; default the wait script's own (an hour). */
  cloudInitTimeoutSeconds?: number;
}

/** Secret values a step reads on standard input; named, never embedded in the plan. */
export type StdinSecret = "cadcPassword";

const STAGE = "stage-";
const COPY = "copy-";

/**
 * The ids of the actions others recognise (the preview, the picture): each becomes the
 * Provisioning child `<name>-<id>`.
 */
export const PLAN_STEPS = {
  /** Waits for cloud-init: it re-runs after every start and changes nothing itself. */
  waitCloudInit: "wait-cloud-init",
  /** Creates a login's staging directory; that login's copies wait for it. */
  stage: (login: string) => `${STAGE}${login}`,
  /** Copies one file (by its staged name) into a login's staging directory. */
  copy: (login: string, staged: string) => `${COPY}${login}-${staged.replace(/[^A-Za-z0-9]+/g, "-")}`,
} as const;

/** Whether an action id is a login's staging step (PLAN_STEPS.stage). */
export const isStageStep = (id: string): boolean => id.startsWith(STAGE);
/** Whether an action id is a copy into a staging directory (PLAN_STEPS.copy). */
export const isCopyStep = (id: string): boolean => id.startsWith(COPY);

interface ActionBase {
  /** Unique, stable id: becomes the Pulumi resource name and the system test's step name. */
  id: string;
  /** SSH login the action runs as. */
  login: string;
  /** Ids of the actions that must have finished first. */
  after: string[];
  /**
   * Hash of everything the action's effect depends on, including the actions before it:
   * a change re-runs it and everything after it, and nothing else.
   */
  hash: string;
  /**
   * Runs again whenever the build VM may have been started again: a start after the
   * snapshot's quiesce is a first boot (cloud-init runs once more), and quiesce removed the
   * staged copies and the CADC credentials, which the VM gets back.
   */
  rerunsAfterStart?: true;
}

export interface CopyAction extends ActionBase {
  kind: "copy";
  /** Absolute local path. */
  local: string;
  /** Absolute remote path (its directory exists by then). */
  remote: string;
}

export interface RunAction extends ActionBase {
  kind: "run";
  /** Command line for the login's shell; every argument is quoted. */
  command: string;
  stdin?: StdinSecret;
  /** What the step is for, for progress lines and error messages. */
  description: string;
}

export type Action = CopyAction | RunAction;

/** POSIX single-quoting: safe for any value, though every value here is validated too. */
const command = (...words: string[]) => words.map(shellQuote).join(" ");

interface StepSpec {
  name: string;
  description: string;
  login: string;
  /** The files this step needs (the registry's, each staged under stagedName). */
  files: readonly Script[];
  /** Builds the command from where the files land: a file's, or a staged folder's (STAGED_PIPELINE). */
  command: (staged: (what: Script | string) => string) => string;
  stdin?: StdinSecret;
  rerunsAfterStart?: true;
}

/** The ordered steps of tutorial steps 5–8, as the issue orders them. */
function steps(ctx: PlanContext): StepSpec[] {
  const admin = ctx.defaultUser;
  const cadc = ctx.cadcUser;
  return [
    {
      name: PLAN_STEPS.waitCloudInit,
      description: "wait for cloud-init to install the packages",
      login: admin,
      files: [SCRIPTS.waitCloudInit],
      command: (s) =>
        ctx.cloudInitTimeoutSeconds === undefined
          ? command("bash", s(SCRIPTS.waitCloudInit))
          : command("bash", s(SCRIPTS.waitCloudInit), "--timeout", String(ctx.cloudInitTimeoutSeconds)),
      rerunsAfterStart: true,
    },
    {
      name: "create-user",
      description: `create the CADC user ${cadc}`,
      login: admin,
      files: [SCRIPTS.createUser, SCRIPTS.cli],
      command: (s) => `sudo -n ${command("bash", s(SCRIPTS.createUser), cadc)}`,
    },
    {
      name: "setup-scratch",
      description: "mount the ephemeral disk and create /mnt/scratch",
      login: admin,
      files: [SCRIPTS.setupScratch, SCRIPTS.cli],
      command: (s) => `sudo -n ${command("bash", s(SCRIPTS.setupScratch), "--device", ctx.scratchDevice, "--owner", cadc)}`,
    },
    {
      name: "cadc-credentials",
      description: "write ~/.netrc and get a CADC proxy certificate",
      login: cadc,
      files: [SCRIPTS.cadcCredentials, SCRIPTS.cli],
      command: (s) => command("bash", s(SCRIPTS.cadcCredentials), "--user", cadc),
      stdin: "cadcPassword",
      rerunsAfterStart: true,
    },
    {
      name: "install-pipeline",
      description: `install ${SCRIPTS.pipeline.name} and its SExtractor configuration`,
      login: admin,
      // The smoke sample is test input, not part of the installed pipeline.
      files: [SCRIPTS.installPipeline, SCRIPTS.cli, ...PIPELINE_INSTALLED],
      command: (s) => `sudo -n ${command("bash", s(SCRIPTS.installPipeline), s(STAGED_PIPELINE))}`,
    },
    {
      name: "smoke-test",
      description: "run the installed pipeline on a small sample exposure",
      login: cadc,
      files: [SCRIPTS.smokeTest, SCRIPTS.cli, ...SMOKE_SAMPLE],
      command: (s) => command("bash", s(SCRIPTS.smokeTest), s(STAGED_SMOKE)),
    },
  ];
}

/** Where a login's copies land: its own home, so no other user can swap a script. */
export function stagingDir(login: string): string {
  return `/home/${login}/.canfar-batch/provisioning`;
}

/** A file a step needs: where it is here, and its name under the staging directory. */
interface StagedFile {
  local: string;
  staged: string;
}

function stepFiles(step: StepSpec, root: string): StagedFile[] {
  return step.files.map((script) => ({ local: localPath(script, root), staged: stagedName(script) }));
}

/**
 * The provisioning of the build VM as an ordered list of SSH actions. The Pulumi component
 * turns each into a `remote.CopyToRemote` or `remote.Command`; the system test replays the
 * very same list over real SSH. Listed order is a valid execution order.
 *
 * All files of one login are staged together, in parallel, as soon as the login exists:
 * the steps themselves must run one after the other, the copies need not.
 */
export function provisioningPlan(ctx: PlanContext, root: string = PROVISIONING_DIR): Action[] {
  const specs = steps(ctx);
  const actions: Action[] = [];
  const copiesOf = new Map<string, CopyAction[]>();
  let previous: RunAction | undefined;
  for (const step of specs) {
    const dir = stagingDir(step.login);
    const chain = previous?.hash ?? "";
    if (!copiesOf.has(step.login)) {
      const files = specs.filter((s) => s.login === step.login).flatMap((s) => stepFiles(s, root));
      const remoteOf = (f: StagedFile) => `${dir}/${f.staged}`;
      const dirs = [...new Set([dir, ...files.map((f) => dirname(remoteOf(f)))])].sort();
      const stage: RunAction = {
        kind: "run",
        id: PLAN_STEPS.stage(step.login),
        login: step.login,
        after: previous ? [previous.id] : [],
        command: command("install", "-d", "-m", "0700", ...dirs),
        description: `create ${dir}`,
        hash: sha256(chain, ...dirs),
        rerunsAfterStart: true,
      };
      const unique = [...new Map(files.map((f) => [f.staged, f])).values()];
      const copies = unique.map(
        (f): CopyAction => ({
          kind: "copy",
          id: PLAN_STEPS.copy(step.login, f.staged),
          login: step.login,
          after: [stage.id],
          local: f.local,
          remote: remoteOf(f),
          hash: sha256(f.staged, readFileSync(f.local)),
          rerunsAfterStart: true,
        }),
      );
      actions.push(stage, ...copies);
      copiesOf.set(step.login, copies);
    }
    const mine = new Set(stepFiles(step, root).map((f) => f.local));
    const copies = copiesOf.get(step.login)!.filter((c) => mine.has(c.local));
    const run: RunAction = {
      kind: "run",
      id: step.name,
      login: step.login,
      after: [...(previous ? [previous.id] : []), ...copies.map((c) => c.id)],
      command: step.command((what) => `${dir}/${typeof what === "string" ? what : stagedName(what)}`),
      ...(step.stdin ? { stdin: step.stdin } : {}),
      ...(step.rerunsAfterStart ? { rerunsAfterStart: true as const } : {}),
      description: step.description,
      hash: "",
    };
    run.hash = sha256(chain, run.command, ...copies.map((c) => c.hash));
    actions.push(run);
    previous = run;
  }
  return actions;
}

/** One hash of everything provisioned: it names the worker image. */
export function planHash(actions: readonly Action[]): string {
  return sha256(...actions.map((a) => a.hash));
}
