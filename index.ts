import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { cloudAccess } from "./lib/cloud-access";
import { DEFAULTS } from "./config/schema";
import { AccessNetwork } from "./build/access-network";
import { KeyPair } from "./build/key-pair";
import { workerImage } from "./image/worker-image";
import { batchHostSubmission } from "./batch/batch-host";
import type { BatchSubmission } from "./batch/batch-submission";
import type { CampaignSettings } from "./batch/campaign-settings";
import { selfHostedPool } from "./pool/pool";

/**
 * The whole stack, wiring only: config → build VM and worker image → a batch host's or the
 * stack's own pool's submission → outputs. Exported as a function (Pulumi calls it and takes
 * its result as the stack outputs) so the offline renderer can run it under mocks too.
 */
async function main(): Promise<Record<string, pulumi.Input<unknown>>> {
  const config = loadConfig();
  // The cloud named in config, and only it: every stage and component gets it from here.
  const cloud = cloudAccess(config.cloud);
  const opts = cloud.opts;

  const keyPair = new KeyPair("key", { name: `${config.prefix}-key`, publicKey: config.sshPublicKey }, opts);
  const access = new AccessNetwork(
    "access",
    { namePrefix: config.prefix, network: config.network, sshIngressCidrs: config.sshIngressCidrs, floatingIp: config.floatingIp },
    opts,
  );
  const pool = config.pool;
  const image = workerImage({ ...config, htcondor: pool.system === "self-hosted", keyPairName: keyPair.keyPairName, access }, cloud);
  const { vm, snapshot, pipeline } = image;

  const outputs: Record<string, pulumi.Input<unknown>> = {
    floatingIp: access.publicIp,
    sshCommand: pulumi.interpolate`ssh ${config.cadcUser}@${access.publicIp}`,
    instanceId: vm.instanceId,
    imageName: snapshot.imageName,
    imageId: snapshot.imageId,
    catalogueDestination: config.vospace,
    pipelineIdentity: pipeline,
  };
  const campaign: CampaignSettings = {
    auth: config.sshAuth,
    stack: pulumi.getStack(),
    ids: config.observationIds,
    pipeline,
    policy: config.queuePolicy,
    imageName: snapshot.imageName,
    workerFlavor: config.workerFlavor,
    destination: config.vospace,
    cadc: { user: config.cadcUser, password: config.cadcPassword },
    expectedRunHours: config.expectedRunHours,
    exposuresPerJob: config.exposuresPerJob,
  };
  let batch: BatchSubmission | undefined;
  if (pool.system === "self-hosted") {
    const floatingIpPool = config.floatingIp.kind === "allocate" ? config.floatingIp.pool : DEFAULTS.floatingIpPool;
    const own = selfHostedPool({ ...config, ...pool, floatingIpPool, networkId: access.networkId, keyPairName: keyPair.keyPairName, imageId: snapshot.imageId }, campaign, cloud);
    batch = own.batch;
    outputs.submitNodeIp = own.submitNode.publicIp;
    // For the admin's known_hosts: the key every connection of the program pins.
    outputs.submitNodeHostKey = own.submitNode.hostKey.publicKey;
    outputs.workers = own.workers.names;
  } else if (config.batchHost !== undefined && config.batchHostKey !== undefined) {
    batch = batchHostSubmission(
      { host: config.batchHost, hostKey: config.batchHostKey, port: config.batchPort, user: config.batchUser, submission: config.submission, cadcUser: config.cadcUser, cadcPassword: config.cadcPassword },
      campaign,
      cloud,
    );
  }
  if (batch !== undefined) {
    outputs.clusterId = batch.clusterId;
    outputs.runDir = batch.runDir;
    outputs.followCommand = batch.followCommand;
    outputs.campaignCommand = batch.campaignCommand;
  }
  return outputs;
}

export = main;
