import * as pulumi from "@pulumi/pulumi";
import type { Distro } from "../domain/distro";
import { PIPELINE_PACKAGES } from "../domain/packages";
import type { CloudAccess } from "../lib/cloud-access";
import type { SshAuth } from "../lib/ssh-auth";
import { connectionAuth } from "../lib/ssh-auth";
import type { AccessNetwork } from "../build/access-network";
import { BuildVm } from "../build/build-vm";
import { HostKey } from "../build/host-key";
import { Provisioning } from "../build/provisioning";
import { planHash, provisioningPlan, stagingDir } from "../build/provisioning-plan";
import { renderCloudInit, type CloudInitArgs } from "../build/user-data";
import { fileHash, imageContentHash, QUIESCE_SCRIPT } from "./content-hash";
import { checkoutPipelineIdentity } from "./pipeline-files";
import { Snapshot } from "./snapshot";

/** What the worker image is built from: the stack's settings that reach the build VM. */
export interface WorkerImageArgs {
  prefix: string;
  image: string;
  flavor: string;
  distro: Distro;
  upgradePackages: boolean;
  extraPackages: readonly string[];
  /** A self-hosted pool's nodes run HTCondor from the image, so the image is built with it. */
  htcondor: boolean;
  defaultUser: string;
  cadcUser: string;
  cadcPassword: pulumi.Input<string>;
  scratchDevice: string;
  sshAuth: SshAuth;
  snapshotPrefix: string;
  snapshotTimeoutSeconds: number;
  keepImageOnDestroy: boolean;
  deleteBuildVmAfterSnapshot: boolean;
  keyPairName: pulumi.Input<string>;
  access: AccessNetwork;
}

export interface WorkerImage {
  vm: BuildVm;
  snapshot: Snapshot;
  /** What decides a catalogue's content: the pipeline's files and the image's tool versions. */
  pipeline: pulumi.Output<string>;
}

/**
 * Tutorial steps 3 to 9: the build VM, its software and provisioning, and the snapshot that
 * becomes the worker image. The one place that says what the image is made of: its content
 * hash covers the provisioning plan, the user-data without the host key (workers make their
 * own), the base image, the flavor and quiesce.sh, and nothing else makes a new image.
 */
export function workerImage(args: WorkerImageArgs, cloud: CloudAccess): WorkerImage {
  const opts = cloud.opts;
  const cloudInit: CloudInitArgs = {
    distro: args.distro,
    upgrade: args.upgradePackages,
    extraPackages: args.extraPackages,
    ...(args.htcondor ? { htcondor: true } : {}),
  };
  const userData = renderCloudInit(cloudInit);
  const hostKey = new HostKey("build-host-key", opts);
  const userDataWithKey = pulumi.secret(
    pulumi.all([hostKey.privateKey, hostKey.publicKey]).apply(([privateKey, publicKey]) => renderCloudInit({ ...cloudInit, hostKey: { privateKey, publicKey } })),
  );
  const vm = new BuildVm(
    "build",
    {
      serverName: `${args.prefix}-build`,
      image: args.image,
      cloud,
      flavor: args.flavor,
      keyPairName: args.keyPairName,
      portId: args.access.portId,
      userData: userDataWithKey,
    },
    opts,
  );

  const actions = provisioningPlan({ defaultUser: args.defaultUser, cadcUser: args.cadcUser, scratchDevice: args.scratchDevice });
  const contentHash = vm.imageId.apply((baseImageId) =>
    imageContentHash({ planHash: planHash(actions), userData, baseImageId, flavor: args.flavor, quiesceHash: fileHash(QUIESCE_SCRIPT) }),
  );
  const provisioning = new Provisioning(
    "provision",
    {
      host: args.access.publicIp,
      hostKey: hostKey.publicKey,
      auth: args.sshAuth,
      actions,
      stdin: { cadcPassword: args.cadcPassword },
      dependsOn: [vm, args.access.association],
      serverId: vm.instanceId,
      ensureRunning: { cloud, trigger: contentHash },
    },
    opts,
  );
  const snapshot = new Snapshot(
    "worker-image",
    {
      connection: { host: args.access.publicIp, hostKey: hostKey.publicKey, user: args.defaultUser, ...connectionAuth(args.sshAuth) },
      stagingDir: stagingDir(args.defaultUser),
      serverId: vm.instanceId,
      namePrefix: args.snapshotPrefix,
      contentHash,
      packages: PIPELINE_PACKAGES[args.distro],
      provenance: { stack: `${pulumi.getProject()}/${pulumi.getStack()}`, base_image: vm.imageId, flavor: args.flavor },
      timeoutSeconds: args.snapshotTimeoutSeconds,
      keepOnDestroy: args.keepImageOnDestroy,
      deleteBuildVm: args.deleteBuildVmAfterSnapshot,
      cloud,
      after: provisioning.done,
    },
    opts,
  );
  // A new image with the same tool versions keeps the identity, so it re-queues no exposure.
  return { vm, snapshot, pipeline: snapshot.packageVersions.apply(checkoutPipelineIdentity) };
}
