import type * as pulumi from "@pulumi/pulumi";
import type { Distro } from "../domain/distro";
import type { CloudAccess } from "../lib/cloud-access";
import { connectionAuth } from "../lib/ssh-auth";
import { BatchSubmission } from "../batch/batch-submission";
import type { CampaignSettings } from "../batch/campaign-settings";
import { PoolNetwork } from "./pool-network";
import { SubmitNode } from "./submit-node";
import { WorkerGroup } from "./worker-group";

/** The stack's own HTCondor pool, from the worker image. */
export interface SelfHostedPoolArgs {
  prefix: string;
  distro: Distro;
  /** The image's default login: Nova gives it this stack's key at each node's boot. */
  defaultUser: string;
  network: string;
  sshIngressCidrs: readonly string[];
  /** Where the submit node's floating IP comes from (a second address: the build VM keeps its own). */
  floatingIpPool: string;
  /** The project network the build VM's port is on; the pool's members join it. */
  networkId: pulumi.Input<string>;
  keyPairName: pulumi.Input<string>;
  imageId: pulumi.Input<string>;
  workerFlavor: string;
  submitNodeFlavor: string;
  workerCount: number;
  poolPassword: pulumi.Output<string>;
}

export interface SelfHostedPool {
  submitNode: SubmitNode;
  workers: WorkerGroup;
  batch: BatchSubmission;
}

/**
 * The self-hosted pool as one unit: its network rules, the submit node (central manager and
 * schedd), the workers (each drained before it goes), and the submission to the submit node
 * once the workers are in.
 */
export function selfHostedPool(args: SelfHostedPoolArgs, campaign: CampaignSettings, cloud: CloudAccess): SelfHostedPool {
  const opts = cloud.opts;
  const poolNetwork = new PoolNetwork("pool-network", { namePrefix: args.prefix, networkId: args.networkId }, opts);
  const submitNode = new SubmitNode(
    "pool-submit",
    {
      namePrefix: args.prefix,
      network: args.network,
      sshIngressCidrs: args.sshIngressCidrs,
      floatingIp: { kind: "allocate", pool: args.floatingIpPool },
      imageId: args.imageId,
      flavor: args.submitNodeFlavor,
      keyPairName: args.keyPairName,
      distro: args.distro,
      poolSecurityGroupId: poolNetwork.securityGroupId,
      poolNetwork: poolNetwork.cidr,
      poolPassword: args.poolPassword,
    },
    opts,
  );
  // The CADC user's keys were copied into the image when it was built; the default login
  // takes this stack's key at boot, so a new key keeps the image.
  const connection = { host: submitNode.publicIp, hostKey: submitNode.hostKey.publicKey, user: args.defaultUser, ...connectionAuth(campaign.auth) };
  const ready = [submitNode.server, submitNode.access.association];
  const workers = new WorkerGroup(
    "pool-workers",
    {
      namePrefix: args.prefix,
      count: args.workerCount,
      imageId: args.imageId,
      flavor: args.workerFlavor,
      distro: args.distro,
      networkId: args.networkId,
      poolSecurityGroupId: poolNetwork.securityGroupId,
      poolNetwork: poolNetwork.cidr,
      centralManager: submitNode.fixedIp,
      poolPassword: args.poolPassword,
      submitNode: connection,
      submitNodeId: submitNode.server.id,
      submitNodeReady: ready,
    },
    opts,
  );
  const batch = new BatchSubmission(
    "batch",
    {
      ...campaign,
      host: submitNode.publicIp,
      hostKey: submitNode.hostKey.publicKey,
      port: 22,
      user: args.defaultUser,
      mode: "self-hosted",
      hostServerId: submitNode.server.id,
      dependsOn: [...ready, workers],
    },
    opts,
  );
  return { submitNode, workers, batch };
}
