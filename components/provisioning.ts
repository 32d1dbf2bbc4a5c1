import * as pulumi from "@pulumi/pulumi";
import { local, remote, types } from "@pulumi/command";
import { REPO_ROOT } from "./content-hash";
import { Action, StdinSecret } from "../provisioning/plan";

export interface ProvisioningArgs {
  /** Address the VM answers SSH on (the floating IP). */
  host: pulumi.Input<string>;
  /** Private key of the key pair; a secret. */
  privateKey: pulumi.Input<string>;
  /** The ordered actions from `provisioningPlan`. */
  actions: readonly Action[];
  /** Values for the steps that read a secret on standard input. */
  stdin: Record<StdinSecret, pulumi.Input<string>>;
  /** Resources that must exist before the first SSH dial (e.g. the floating IP association). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Start the build VM first if a snapshot left it stopped, whenever `trigger` (the image
   * content hash) changes: exactly when provisioning or the snapshot will run again.
   */
  ensureRunning: { serverId: pulumi.Input<string>; cloud: string; trigger: pulumi.Input<string> };
}

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

  constructor(name: string, args: ProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canfar:index:Provisioning", name, {}, opts);
    const running = new local.Command(
      `${name}-ensure-running`,
      {
        dir: REPO_ROOT,
        environment: { OS_CLOUD: args.ensureRunning.cloud, SERVER_ID: args.ensureRunning.serverId },
        create: `bash provisioning/snapshot/start-server.sh --server "$SERVER_ID"`,
        triggers: [args.ensureRunning.trigger],
        logging: "stderr",
      },
      { parent: this, dependsOn: args.dependsOn ?? [] },
    );
    const created = new Map<string, pulumi.Resource>();
    for (const action of args.actions) {
      const connection: types.input.remote.ConnectionArgs = {
        host: args.host,
        user: action.login,
        privateKey: args.privateKey,
        // A fresh VM takes minutes to boot and run cloud-init's first stages.
        dialErrorLimit: 60,
        perDialTimeout: 20,
      };
      const dependsOn = action.after.length > 0 ? action.after.map((id) => created.get(id)!) : [running];
      const child = { parent: this, dependsOn };
      const resource =
        action.kind === "copy"
          ? new remote.CopyToRemote(
              `${name}-${action.id}`,
              { connection, source: new pulumi.asset.FileAsset(action.local), remotePath: action.remote, triggers: [action.hash] },
              child,
            )
          : new remote.Command(
              `${name}-${action.id}`,
              {
                connection,
                create: action.command,
                triggers: [action.hash],
                ...(action.stdin ? { stdin: pulumi.secret(args.stdin[action.stdin]) } : {}),
              },
              { ...child, additionalSecretOutputs: ["stdin"] },
            );
      created.set(action.id, resource);
    }
    this.done = created.get(args.actions[args.actions.length - 1].id)!;
    this.steps = args.actions.filter((a) => a.kind === "run").map((a) => a.id);
    this.registerOutputs({ steps: this.steps });
  }
}
