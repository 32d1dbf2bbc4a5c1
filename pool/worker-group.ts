import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { remote, types } from "@pulumi/command";
import type { Distro } from "../domain/distro";
import { sha256 } from "../lib/sha256";
import { shellQuote } from "../lib/shell-quote";
import { deliverCommand, SCRIPTS, scriptText } from "../provisioning/scripts";
import { poolServer } from "./pool-server";
import { renderPoolUserData } from "./user-data";
import { LOG_BOTH, SAME_AS_UNSET_LOGGING } from "../lib/command-logging";

/** Where the drain script lives on the submit node: one place, whatever submissions come and go. */
export const DRAIN_DIR = "canfar-batch/pool";

/**
 * How long a scale-down waits for a removed worker's running jobs. One exposure takes
 * minutes (a 36-CCD frame: download, a few seconds of funpack, ten of source-extractor,
 * upload); half an hour lets a slow download finish, and a job still running then is
 * re-run elsewhere by HTCondor, never lost (its catalogue is stored whole or not at all).
 */
export const DRAIN_TIMEOUT_SECONDS = 1800;

export interface WorkerGroupArgs {
  namePrefix: string;
  /** 0 declares nothing: no server, no port, no drain. */
  count: number;
  imageId: pulumi.Input<string>;
  flavor: string;
  distro: Distro;
  networkId: pulumi.Input<string>;
  poolSecurityGroupId: pulumi.Input<string>;
  poolNetwork: pulumi.Input<string>;
  /** The submit node's fixed IP: every worker's central manager. */
  centralManager: pulumi.Input<string>;
  /** A Pulumi secret; it reaches a worker only inside its (secret) user-data. */
  poolPassword: pulumi.Input<string>;
  /** SSH to the submit node, where each worker is drained before its server goes. */
  submitNode: types.input.remote.ConnectionArgs;
  /** The submit node's server id: a new node gets the drain script again. */
  submitNodeId: pulumi.Input<string>;
  /** What must exist before the submit node answers SSH (its server, its address's association). */
  submitNodeReady: pulumi.Resource[];
}

/** `<prefix>-worker-<i>`: stable, so scaling keeps worker-0 worker-0 and removes the highest. */
export function workerName(prefix: string, index: number): string {
  return `${prefix}-worker-${index}`;
}

/** The component's type token: part of every URN under it. */
export const WORKER_GROUP_TYPE = "canfar:index:WorkerGroup";
/** Its children's ids: each is named `<name>-<id>`; a worker's carry its index. */
export const WORKER_GROUP_STEPS = {
  stageDrain: "stage-drain",
  port: (index: number) => `${index}-port`,
  server: (index: number) => `${index}-server`,
  drain: (index: number) => `${index}-drain`,
} as const;

/**
 * The pool's execute nodes: `count` servers from the worker image, each on its own port on
 * the project network carrying only the pool's group (no floating IP: nothing reaches a
 * worker from outside, and it reaches the collector and CADC through the project's
 * router). Before a worker's server is deleted, by a scale-down, a replacement or a
 * destroy, its drain command's delete runs on the submit node: it depends on the server
 * (the engine deletes dependents first) and carries the server's id in its triggers (so a
 * replacement of the server replaces, and so runs, the drain too).
 */
export class WorkerGroup extends pulumi.ComponentResource {
  readonly servers: openstack.compute.Instance[] = [];
  readonly drains: remote.Command[] = [];
  readonly names: string[] = [];

  constructor(name: string, args: WorkerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WORKER_GROUP_TYPE, name, {}, opts);
    const child = { parent: this };
    if (!Number.isInteger(args.count) || args.count < 0) throw new Error(`WorkerGroup '${name}': count ${args.count} is not a whole number >= 0`);
    if (args.count === 0) {
      this.registerOutputs({ names: [] });
      return;
    }
    const script = scriptText(SCRIPTS.drainWorker);
    const staged = new remote.Command(
      `${name}-${WORKER_GROUP_STEPS.stageDrain}`,
      {
        connection: args.submitNode,
        create: deliverCommand(DRAIN_DIR, SCRIPTS.drainWorker.name),
        stdin: script,
        triggers: [sha256(script), args.submitNodeId],
        // The command prints nothing on success, and its stdin is never logged.
        logging: LOG_BOTH,
      },
      { ...child, dependsOn: args.submitNodeReady, ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
    );
    for (let i = 0; i < args.count; i++) {
      const hostname = workerName(args.namePrefix, i);
      this.names.push(hostname);
      const port = new openstack.networking.Port(
        `${name}-${WORKER_GROUP_STEPS.port(i)}`,
        { name: `${hostname}-port`, networkId: args.networkId, securityGroupIds: [args.poolSecurityGroupId], adminStateUp: true },
        { ...child, deleteBeforeReplace: true },
      );
      const userData = pulumi.secret(
        pulumi
          .all([args.poolPassword, args.poolNetwork, args.centralManager])
          .apply(([poolPassword, poolNetwork, centralManager]) => renderPoolUserData({ role: "worker", distro: args.distro, hostname, centralManager, poolPassword, poolNetwork })),
      );
      const server = poolServer(
        `${name}-${WORKER_GROUP_STEPS.server(i)}`,
        {
          serverName: hostname,
          imageId: args.imageId,
          flavor: args.flavor,
          portId: port.id,
          userData,
          role: "worker",
          // A new image or flavor is a new worker, drained first (see BuildVm for why
          // neither is done in place): its jobs must run on what the image now holds.
          replaceOnChanges: ["imageId", "flavorName"],
        },
        child,
      );
      this.servers.push(server);
      this.drains.push(
        new remote.Command(
          `${name}-${WORKER_GROUP_STEPS.drain(i)}`,
          {
            connection: args.submitNode,
            create: `printf '%s\\n' ${shellQuote(`${hostname} is drained before its server is deleted`)}`,
            // The login is the image's default user; draining is root's (the script refuses
            // anyone else), and cloud images give that user passwordless sudo. -n: fail, never
            // wait for a password prompt nobody can answer.
            delete: ["sudo", "-n", "bash", shellQuote(`${DRAIN_DIR}/${SCRIPTS.drainWorker.name}`), "--worker", shellQuote(hostname), "--timeout", String(DRAIN_TIMEOUT_SECONDS)].join(" "),
            triggers: [server.id],
            logging: "stderr",
          },
          { ...child, dependsOn: [server, staged] },
        ),
      );
    }
    this.registerOutputs({ names: this.names });
  }
}
