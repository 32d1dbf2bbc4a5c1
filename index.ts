import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { loadConfig } from "./config/load";
import { AccessNetwork } from "./components/access-network";
import { BuildVm } from "./components/build-vm";
import { KeyPair } from "./components/key-pair";
import { PIPELINE_PACKAGES, renderCloudInit } from "./components/cloud-init";
import { fileHash, imageContentHash, QUIESCE_SCRIPT } from "./components/content-hash";
import { HostKey } from "./components/host-key";
import { Provisioning } from "./components/provisioning";
import { connectionAuth } from "./components/ssh-auth";
import { Snapshot } from "./components/snapshot";
import { BatchSubmission } from "./components/batch-submission";
import { planHash, provisioningPlan, stagingDir } from "./provisioning/plan";

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
  const cloudInit = { distro: config.distro, upgrade: config.upgradePackages, extraPackages: config.extraPackages };
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

  if (config.batchHost !== undefined && config.batchHostKey !== undefined) {
    const batch = new BatchSubmission(
      "batch",
      {
        host: config.batchHost,
        hostKey: config.batchHostKey,
        port: config.batchPort,
        user: config.batchUser,
        auth: config.sshAuth,
        stack: pulumi.getStack(),
        ids: config.observationIds,
        imageName: snapshot.imageName,
        workerFlavor: config.workerFlavor,
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
        jobEnvironment: { CATALOGUE_DEST: config.vospace },
        cadc: { user: config.cadcUser, password: config.cadcPassword },
        expectedRunHours: config.expectedRunHours,
      },
      opts,
    );
    outputs.clusterId = batch.clusterId;
    outputs.runDir = batch.runDir;
    outputs.followCommand = batch.followCommand;
  }
  return outputs;
}

export = main;
