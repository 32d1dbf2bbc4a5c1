import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { loadConfig } from "./config/load";
import { AccessNetwork } from "./components/access-network";
import { BuildVm } from "./components/build-vm";
import { KeyPair } from "./components/key-pair";
import { renderCloudInit } from "./components/cloud-init";
import { Provisioning } from "./components/provisioning";
import { provisioningPlan } from "./provisioning/plan";

// Package installs on a fresh VM take minutes; an hour means something is stuck.
const CLOUD_INIT_TIMEOUT_SECONDS = 3600;

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
  const userData = renderCloudInit({
    distro: config.distro,
    upgrade: config.upgradePackages,
    extraPackages: config.extraPackages,
  });
  const vm = new BuildVm(
    "build",
    {
      serverName: `${config.prefix}-build`,
      image: config.image,
      flavor: config.flavor,
      keyPairName: keyPair.keyPairName,
      portId: access.portId,
      userData,
    },
    opts,
  );

  const provisioning = new Provisioning(
    "provision",
    {
      host: access.publicIp,
      privateKey: config.sshPrivateKey,
      actions: provisioningPlan({
        defaultUser: config.defaultUser,
        cadcUser: config.cadcUser,
        scratchDevice: config.scratchDevice,
        cloudInitTimeoutSeconds: CLOUD_INIT_TIMEOUT_SECONDS,
      }),
      stdin: { cadcPassword: config.cadcPassword },
      dependsOn: [vm, access.association],
    },
    opts,
  );

  return {
    floatingIp: access.publicIp,
    sshCommand: pulumi.interpolate`ssh ${config.cadcUser}@${access.publicIp}`,
    provisionedContentHash: provisioning.contentHash,
    instanceId: vm.instanceId,
  };
}

export = main;
