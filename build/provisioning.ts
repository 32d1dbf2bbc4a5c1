import * as pulumi from "@pulumi/pulumi";
import type { CloudAccess } from "../lib/cloud-access";
import { local, remote, types } from "@pulumi/command";
import { REPO_ROOT } from "../lib/repo-root";
import { Action, StdinSecret } from "./provisioning-plan";
import { authSecrets, connectionAuth, type SshAuth } from "../lib/ssh-auth";
import { LOG_BOTH, SAME_AS_UNSET_LOGGING } from "../lib/command-logging";
import { inPlaceCommand, SCRIPTS } from "../provisioning/scripts";

export interface ProvisioningArgs {
  /** Address the VM answers SSH on (the floating IP). */
  host: pulumi.Input<string>;
  /** The VM's host key (`ssh-ed25519 AAAA...`): every connection refuses any other. */
  hostKey: pulumi.Input<string>;
  /** How SSH authenticates: the key pair's private key (a secret) or the ssh-agent. */
  auth: SshAuth;
  /** The ordered actions from `provisioningPlan`. */
  actions: readonly Action[];
  /** Values for the steps that read a secret on standard input. */
  stdin: Record<StdinSecret, pulumi.Input<string>>;
  /** Resources that must exist before the first SSH dial (e.g. the floating IP association). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** The build VM: every action is replaced with it, so a new server is provisioned whole. */
  serverId: pulumi.Input<string>;
  /**
   * Start the build VM first if a snapshot left it stopped, whenever any SSH step may run
   * again: `trigger` (the image content hash) changes, the server, the address or a secret
   * a step reads does.
   */
  ensureRunning: { cloud: CloudAccess; trigger: pulumi.Input<string> };
}

/** The component's type token: part of every URN under it. */
export const PROVISIONING_TYPE = "canfar:index:Provisioning";
/**
 * Its own child's id; the others are the plan's actions' (PLAN_STEPS). Each is named
 * `<name>-<id>`.
 */
export const PROVISIONING_STEPS = { ensureRunning: "ensure-running" } as const;

/**
 * Tutorial steps 5–8 over SSH: every action of the plan becomes a `remote.CopyToRemote` or
 * `remote.Command`, chained as the plan says, re-run when its hash (its content and
 * everything before it) changes. Nothing is passed through `environment`: sshd drops
 * variables it has no AcceptEnv for, so values travel as quoted arguments or on stdin.
 */
export class Provisioning extends pulumi.ComponentResource {
  /** The last action (the smoke test): what the snapshot waits for. */
  readonly done: pulumi.Resource;
  /** The steps, in order, as `pulumi stack export` shows them. */
  readonly steps: string[];
  /** Starts the build VM when a snapshot stopped it; runs before the first SSH dial. */
  readonly ensureRunning: local.Command;
  /** Every action's resource, by action id. */
  readonly resources: ReadonlyMap<string, pulumi.Resource>;

  constructor(name: string, args: ProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PROVISIONING_TYPE, name, {}, opts);
    // pulumi-command re-runs a command (an update) when its connection or stdin changes:
    // a new key, address or password re-runs steps, so the VM must be running for those
    // too. The values are a secret here as in the connection and stdin that hold them.
    const secrets = pulumi.secret(pulumi.all([...authSecrets(args.auth), ...Object.values<pulumi.Input<string>>(args.stdin)]).apply((values) => values.join("\n")));
    const running = new local.Command(
      `${name}-${PROVISIONING_STEPS.ensureRunning}`,
      {
        dir: REPO_ROOT,
        environment: { OS_CLOUD: args.ensureRunning.cloud.name, SERVER_ID: args.serverId },
        create: `${inPlaceCommand(SCRIPTS.startServer)} --server "$SERVER_ID"`,
        triggers: [args.ensureRunning.trigger, args.serverId, args.host, secrets],
        logging: "stderr",
      },
      { parent: this, dependsOn: args.dependsOn ?? [] },
    );
    this.ensureRunning = running;
    const created = new Map<string, pulumi.Resource>();
    for (const action of args.actions) {
      const connection: types.input.remote.ConnectionArgs = {
        host: args.host,
        hostKey: args.hostKey,
        user: action.login,
        ...connectionAuth(args.auth),
        // A fresh VM takes minutes to boot and run cloud-init's first stages.
        dialErrorLimit: 60,
        perDialTimeout: 20,
      };
      const dependsOn = action.after.length > 0 ? action.after.map((id) => created.get(id)!) : [running];
      const child = { parent: this, dependsOn };
      // With the server's id, a replaced server is provisioned whole: dependsOn alone would
      // leave the steps as they were and a fresh, unprovisioned server would be imaged.
      // Some follow the start too: a start after quiesce is a first boot, and quiesce took
      // the staged copies and the credentials away.
      const triggers: pulumi.Input<unknown>[] = [action.hash, args.serverId, ...(action.rerunsAfterStart ? [running.id] : [])];
      const resource =
        action.kind === "copy"
          ? new remote.CopyToRemote(
              `${name}-${action.id}`,
              { connection, source: new pulumi.asset.FileAsset(action.local), remotePath: action.remote, triggers },
              child,
            )
          : new remote.Command(
              `${name}-${action.id}`,
              {
                connection,
                create: action.command,
                triggers,
                ...(action.stdin ? { stdin: pulumi.secret(args.stdin[action.stdin]) } : {}),
                // Both streams are the scripts' progress (and cadc-get-cert's "DONE" on
                // stdout); the one that reads a secret (cadc-credentials.sh) takes it on
                // stdin, which is never logged, and prints no part of it.
                logging: LOG_BOTH,
              },
              { ...child, additionalSecretOutputs: ["stdin"], ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
            );
      created.set(action.id, resource);
    }
    this.done = created.get(args.actions[args.actions.length - 1].id)!;
    this.resources = created;
    this.steps = args.actions.filter((a) => a.kind === "run").map((a) => a.id);
    this.registerOutputs({ steps: this.steps });
  }
}
