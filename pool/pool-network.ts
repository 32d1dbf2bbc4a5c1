import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { HTCONDOR_PORT } from "./user-data";

export interface PoolNetworkArgs {
  /** Prefix for every cloud-side name (`<project>-<stack>`). */
  namePrefix: string;
  /** The project network the pool's ports are on (AccessNetwork looked it up). */
  networkId: pulumi.Input<string>;
}

/** The component's type token: part of every URN under it. */
export const POOL_NETWORK_TYPE = "canfar:index:PoolNetwork";
/** Its children's ids: each is named `<name>-<id>`. */
export const POOL_NETWORK_STEPS = { group: "group", htcondor: "htcondor" } as const;

/**
 * Who in the pool may talk to whom: one security group that every member's port carries,
 * letting members reach each other's HTCondor port (the shared port, HTCONDOR_PORT) and
 * nothing else; and the CIDR they talk on, which HTCondor's ALLOW rules name.
 */
export class PoolNetwork extends pulumi.ComponentResource {
  readonly securityGroup: openstack.networking.SecGroup;
  readonly securityGroupId: pulumi.Output<string>;
  /** The IPv4 CIDR of the project network's subnet: HTCondor admits only members from it. */
  readonly cidr: pulumi.Output<string>;

  constructor(name: string, args: PoolNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(POOL_NETWORK_TYPE, name, {}, opts);
    const child = { parent: this };
    this.securityGroup = new openstack.networking.SecGroup(
      `${name}-${POOL_NETWORK_STEPS.group}`,
      { name: `${args.namePrefix}-pool`, description: `HTCondor in the canfar-batch pool of ${args.namePrefix}` },
      child,
    );
    this.securityGroupId = this.securityGroup.id;
    // The remote group is the group itself: a member, whatever address it gets, and no one
    // else. HTCondor 9+ runs every daemon behind the one shared port.
    new openstack.networking.SecGroupRule(
      `${name}-${POOL_NETWORK_STEPS.htcondor}`,
      {
        securityGroupId: this.securityGroup.id,
        direction: "ingress",
        ethertype: "IPv4",
        protocol: "tcp",
        portRangeMin: HTCONDOR_PORT,
        portRangeMax: HTCONDOR_PORT,
        remoteGroupId: this.securityGroup.id,
        description: `HTCondor (port ${HTCONDOR_PORT}) from the pool's members`,
      },
      child,
    );
    // Read from the cloud rather than configured: it is the network the ports are on, so it
    // cannot disagree with them. A project network on Alliance clouds has one IPv4 subnet;
    // a network with several makes the lookup fail with OpenStack's "more than one" message.
    this.cidr = openstack.networking.getSubnetOutput({ networkId: args.networkId, ipVersion: 4 }, child).apply((s) => s.cidr);
    this.registerOutputs({ securityGroupId: this.securityGroupId, cidr: this.cidr });
  }
}
