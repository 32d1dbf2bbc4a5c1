import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { loadConfig } from "./config/load";
import { AccessNetwork } from "./build/access-network";
import { BuildVm } from "./build/build-vm";
import { KeyPair } from "./build/key-pair";
import { renderCloudInit, type CloudInitArgs } from "./build/user-data";
import { PIPELINE_PACKAGES } from "./domain/packages";
import { fileHash, imageContentHash, QUIESCE_SCRIPT } from "./image/content-hash";
import { HostKey } from "./build/host-key";
import { Provisioning } from "./build/provisioning";
import { connectionAuth } from "./lib/ssh-auth";
import { Snapshot } from "./image/snapshot";
import { checkoutPipelineIdentity } from "./image/pipeline-files";
import { BatchSubmission } from "./batch/batch-submission";
import { planHash, provisioningPlan, stagingDir } from "./build/provisioning-plan";
import { PoolNetwork } from "./pool/pool-network";
import { SubmitNode } from "./pool/submit-node";
import { WorkerGroup } from "./pool/worker-group";
import { DEFAULTS } from "./config/schema";

/**
 * The whole stack: config → components. Exported as a function (Pulumi calls it and takes
 * its result as the stack outputs) so the offline renderer can run it under mocks too.
 */
async function main(): Promise<Record<string, pulumi.Input<unknown>>> {
  const config = loadConfig();
  // One explicit provider, so the cloud named in config is the only one used (no ambient
  // OS_* variables silently pointing a stack at another project).
  const provider = new openstack.Provider("openstack", { cloud: config.cloud });
  const opts = { providers: { openstack: provider } };

  const keyPair = new KeyPair("key", { name: `${config.prefix}-key`, publicKey: config.sshPublicKey }, opts);
  const access = new AccessNetwork(
    "access",
    {
      namePrefix: config.prefix,
      network: config.network,
      sshIngressCidrs: config.sshIngressCidrs,
      floatingIp: config.floatingIp,
    },
    opts,
  );
  // A self-hosted pool's nodes run HTCondor from the image, so the image is built with it.
  const cloudInit: CloudInitArgs = {
    distro: config.distro,
    upgrade: config.upgradePackages,
    extraPackages: config.extraPackages,
    ...(config.pool.system === "self-hosted" ? { htcondor: true } : {}),
  };
  // What the image is made of; the host key is not (workers make their own).
  const userData = renderCloudInit(cloudInit);
  const hostKey = new HostKey("build-host-key", opts);
  const userDataWithKey = pulumi.secret(
    pulumi.all([hostKey.privateKey, hostKey.publicKey]).apply(([privateKey, publicKey]) => renderCloudInit({ ...cloudInit, hostKey: { privateKey, publicKey } })),
  );
  const vm = new BuildVm(
    "build",
    {
      serverName: `${config.prefix}-build`,
      image: config.image,
      cloud: config.cloud,
      flavor: config.flavor,
      keyPairName: keyPair.keyPairName,
      portId: access.portId,
      userData: userDataWithKey,
    },
    opts,
  );

  const actions = provisioningPlan({
    defaultUser: config.defaultUser,
    cadcUser: config.cadcUser,
    scratchDevice: config.scratchDevice,
  });
  const contentHash = vm.imageId.apply((baseImageId) =>
    imageContentHash({ planHash: planHash(actions), userData, baseImageId, flavor: config.flavor, quiesceHash: fileHash(QUIESCE_SCRIPT) }),
  );
  const provisioning = new Provisioning(
    "provision",
    {
      host: access.publicIp,
      hostKey: hostKey.publicKey,
      auth: config.sshAuth,
      actions,
      stdin: { cadcPassword: config.cadcPassword },
      dependsOn: [vm, access.association],
      serverId: vm.instanceId,
      ensureRunning: { cloud: config.cloud, trigger: contentHash },
    },
    opts,
  );
  const snapshot = new Snapshot(
    "worker-image",
    {
      connection: { host: access.publicIp, hostKey: hostKey.publicKey, user: config.defaultUser, ...connectionAuth(config.sshAuth) },
      stagingDir: stagingDir(config.defaultUser),
      serverId: vm.instanceId,
      namePrefix: config.snapshotPrefix,
      contentHash,
      packages: PIPELINE_PACKAGES[config.distro],
      provenance: { stack: `${pulumi.getProject()}/${pulumi.getStack()}`, base_image: vm.imageId, flavor: config.flavor },
      timeoutSeconds: config.snapshotTimeoutSeconds,
      keepOnDestroy: config.keepImageOnDestroy,
      deleteBuildVm: config.deleteBuildVmAfterSnapshot,
      cloud: config.cloud,
      after: provisioning.done,
    },
    opts,
  );

  const outputs: Record<string, pulumi.Input<unknown>> = {
    floatingIp: access.publicIp,
    sshCommand: pulumi.interpolate`ssh ${config.cadcUser}@${access.publicIp}`,
    instanceId: vm.instanceId,
    imageName: snapshot.imageName,
    imageId: snapshot.imageId,
    catalogueDestination: config.vospace,
  };
  // What decides a catalogue's content: the pipeline's files and the image's tool versions.
  // A new image with the same versions keeps it, so it re-queues no exposure.
  const pipeline = snapshot.packageVersions.apply(checkoutPipelineIdentity);
  outputs.pipelineIdentity = pipeline;

  const common = {
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
  if (config.pool.system === "self-hosted") {
    const pool = config.pool;
    const poolNetwork = new PoolNetwork("pool-network", { namePrefix: config.prefix, networkId: access.networkId }, opts);
    const submitNode = new SubmitNode(
      "pool-submit",
      {
        namePrefix: config.prefix,
        network: config.network,
        sshIngressCidrs: config.sshIngressCidrs,
        // A second address: the build VM keeps the one it has (adopted or allocated).
        floatingIp: { kind: "allocate", pool: config.floatingIp.kind === "allocate" ? config.floatingIp.pool : DEFAULTS.floatingIpPool },
        imageId: snapshot.imageId,
        flavor: pool.submitNodeFlavor,
        keyPairName: keyPair.keyPairName,
        distro: config.distro,
        poolSecurityGroupId: poolNetwork.securityGroupId,
        poolNetwork: poolNetwork.cidr,
        poolPassword: pool.poolPassword,
      },
      opts,
    );
    // The image's default login: Nova gives it this stack's key at the node's boot, where the
    // CADC user's keys were copied into the image when it was built (a new key keeps the image).
    const connection = { host: submitNode.publicIp, hostKey: submitNode.hostKey.publicKey, user: config.defaultUser, ...connectionAuth(config.sshAuth) };
    const ready = [submitNode.server, submitNode.access.association];
    const workers = new WorkerGroup(
      "pool-workers",
      {
        namePrefix: config.prefix,
        count: pool.workerCount,
        imageId: snapshot.imageId,
        flavor: config.workerFlavor,
        distro: config.distro,
        networkId: access.networkId,
        poolSecurityGroupId: poolNetwork.securityGroupId,
        poolNetwork: poolNetwork.cidr,
        centralManager: submitNode.fixedIp,
        poolPassword: pool.poolPassword,
        submitNode: connection,
        submitNodeId: submitNode.server.id,
        submitNodeReady: ready,
      },
      opts,
    );
    batch = new BatchSubmission(
      "batch",
      { ...common, host: submitNode.publicIp, hostKey: submitNode.hostKey.publicKey, port: 22, user: config.defaultUser, mode: "self-hosted", hostServerId: submitNode.server.id, dependsOn: [...ready, workers] },
      opts,
    );
    outputs.submitNodeIp = submitNode.publicIp;
    // For the admin's known_hosts: the key every connection of the program pins.
    outputs.submitNodeHostKey = submitNode.hostKey.publicKey;
    outputs.workers = workers.names;
  } else if (config.batchHost !== undefined && config.batchHostKey !== undefined) {
    batch = new BatchSubmission(
      "batch",
      {
        ...common,
        host: config.batchHost,
        hostKey: config.batchHostKey,
        port: config.batchPort,
        user: config.batchUser,
        mode: config.submission.mode,
        ...(config.submission.mode === "csv1"
          ? {
              credentials: {
                ...config.submission.project,
                // On arbutus-canfar the OpenStack login is the CADC account.
                username: config.cadcUser,
                password: config.cadcPassword,
              },
            }
          : {}),
      },
      opts,
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
