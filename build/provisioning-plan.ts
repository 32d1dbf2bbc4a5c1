import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { REPO_ROOT } from "../lib/repo-root";
import { sha256 } from "../lib/sha256";
import { shellQuote } from "../lib/shell-quote";

/**
 * Where the scripts of this folder live on the machine running `pulumi up`. Its folders say
 * where each script runs: `local/` on that machine, `build-vm/` on the build VM,
 * `batch-host/` on the batch host, `shared/` on both remote hosts, `worker/` (the pipeline) on
 * the workers made from the image; `lib/` holds what scripts of several of them source.
 */
export const PROVISIONING_DIR = join(REPO_ROOT, "provisioning");

/**
 * Each staged name and the file of this folder it comes from. The staged names are the VM's
 * layout, kept as it was before the folders said where scripts run: a name is part of the
 * content hash, so moving a file here must not make a new worker image.
 */
const STAGED: Record<string, string> = {
  // The scripts' shared plumbing, staged beside them: they look for it there first.
  "cli.sh": "lib/cli.sh",
  "wait-cloud-init.sh": "build-vm/wait-cloud-init.sh",
  "create-user.sh": "build-vm/create-user.sh",
  "setup-scratch.sh": "build-vm/setup-scratch.sh",
  "cadc-credentials.sh": "shared/cadc-credentials.sh",
  "install-pipeline.sh": "build-vm/install-pipeline.sh",
  "smoke-test.sh": "build-vm/smoke-test.sh",
  pipeline: "worker",
};

/** What the steps need to know; all of it already validated by the config schema. */
export interface PlanContext {
  /** The image's default login (`ubuntu`), holding the key cloud-init injected. */
  defaultUser: string;
  /** The CADC user created on the VM (tutorial step 5). */
  cadcUser: string;
  /** Ephemeral disk mounted on /mnt when nothing is (tutorial step 7). */
  scratchDevice: string;
  /** Upper bound on waiting for cloud-init's package install; default wait-cloud-init.sh's (an hour). */
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

/**
 * Docs (`*.md`) in a staged folder are for readers of this repository, not for the VM: no
 * step reads them, and staged they would be part of the content hash, so a typo fixed in
 * provisioning/worker/README.md would build a new worker image.
 */
const isDoc = (path: string) => path.endsWith(".md");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile() && !isDoc(p))
    .sort();
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

interface StepSpec {
  name: string;
  description: string;
  login: string;
  /** Staged names (keys of STAGED) of the files this step needs. Directories bring everything under them. */
  files: string[];
  /** Staged paths under `files` directories to leave out. */
  exclude?: string[];
  /** Builds the command from where the files land. */
  command: (staged: (rel: string) => string) => string;
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
      files: ["wait-cloud-init.sh"],
      command: (s) =>
        ctx.cloudInitTimeoutSeconds === undefined
          ? command("bash", s("wait-cloud-init.sh"))
          : command("bash", s("wait-cloud-init.sh"), "--timeout", String(ctx.cloudInitTimeoutSeconds)),
      rerunsAfterStart: true,
    },
    {
      name: "create-user",
      description: `create the CADC user ${cadc}`,
      login: admin,
      files: ["create-user.sh", "cli.sh"],
      command: (s) => `sudo -n ${command("bash", s("create-user.sh"), cadc)}`,
    },
    {
      name: "setup-scratch",
      description: "mount the ephemeral disk and create /mnt/scratch",
      login: admin,
      files: ["setup-scratch.sh", "cli.sh"],
      command: (s) => `sudo -n ${command("bash", s("setup-scratch.sh"), "--device", ctx.scratchDevice, "--owner", cadc)}`,
    },
    {
      name: "cadc-credentials",
      description: "write ~/.netrc and get a CADC proxy certificate",
      login: cadc,
      files: ["cadc-credentials.sh", "cli.sh"],
      command: (s) => command("bash", s("cadc-credentials.sh"), "--user", cadc),
      stdin: "cadcPassword",
      rerunsAfterStart: true,
    },
    {
      name: "install-pipeline",
      description: "install do_catalogue.bash and its SExtractor configuration",
      login: admin,
      files: ["install-pipeline.sh", "cli.sh", "pipeline"],
      // The smoke sample is test input, not part of the installed pipeline.
      exclude: ["pipeline/smoke"],
      command: (s) => `sudo -n ${command("bash", s("install-pipeline.sh"), s("pipeline"))}`,
    },
    {
      name: "smoke-test",
      description: "run the installed pipeline on a small sample exposure",
      login: cadc,
      files: ["smoke-test.sh", "cli.sh", "pipeline/smoke"],
      command: (s) => command("bash", s("smoke-test.sh"), s("pipeline/smoke")),
    },
  ];
}

/** Where a login's copies land: its own home, so no other user can swap a script. */
export function stagingDir(login: string): string {
  return `/home/${login}/.canfar-batch/provisioning`;
}

/** The file or folder here of a staged name: its own entry, or under its first folder's. */
function sourceOf(name: string): string {
  const [top, ...rest] = name.split("/");
  const source = STAGED[name] ?? (rest.length > 0 && top !== undefined && STAGED[top] !== undefined ? join(STAGED[top], ...rest) : undefined);
  if (source === undefined) throw new Error(`provisioning plan: ${name} has no entry in STAGED`);
  return source;
}

/** A file a step needs: where it is here, and its name under the staging directory. */
interface StagedFile {
  local: string;
  staged: string;
}

function stepFiles(step: StepSpec, root: string): StagedFile[] {
  return step.files
    .flatMap((name): StagedFile[] => {
      const local = join(root, sourceOf(name));
      return statSync(local).isDirectory()
        ? filesUnder(local).map((file) => ({ local: file, staged: join(name, relative(local, file)) }))
        : [{ local, staged: name }];
    })
    .filter((f) => !(step.exclude ?? []).some((x) => isUnder(f.staged, x)));
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
      command: step.command((rel) => `${dir}/${rel}`),
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
