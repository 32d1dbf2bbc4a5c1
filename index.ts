import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { loadConfig } from "./config/load";
import { AccessNetwork } from "./components/access-network";
import { BuildVm } from "./components/build-vm";
import { KeyPair } from "./components/key-pair";
import { renderCloudInit } from "./components/cloud-init";

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
    { ...opts, dependsOn: [access.association] },
  );

  return {
    floatingIp: access.publicIp,
    sshCommand: pulumi.interpolate`ssh ${config.defaultUser}@${access.publicIp}`,
    instanceId: vm.instanceId,
  };
}

export = main;
