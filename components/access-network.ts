import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { parseCidr } from "../config/cidr";

export type FloatingIpChoice = { kind: "allocate"; pool: string } | { kind: "adopt"; address: string };

export interface AccessNetworkArgs {
  /** Prefix for every cloud-side name (`<project>-<stack>`). */
  namePrefix: string;
  /** Name of the project network the VM's port is created on. */
  network: string;
  /** CIDRs allowed to reach port 22; validated by the config schema (no 0.0.0.0/0 without opt-in). */
  sshIngressCidrs: readonly string[];
  /**
   * Allocate a new floating IP from a pool, or adopt one the project already holds. An
   * adopted address is looked up, never created or released: destroying the stack leaves it.
   */
  floatingIp: FloatingIpChoice;
}

/**
 * Tutorial steps 2 and 4: a public address reaching the VM over SSH. The port is created
 * here (not by Nova) so the floating IP can be associated with `networking.FloatingIpAssociate`
 * (the compute variant is deprecated) and outlives server replacement.
 */
export class AccessNetwork extends pulumi.ComponentResource {
  readonly portId: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** The association; SSH steps depend on it, or they dial an address not yet routed. */
  readonly association: openstack.networking.FloatingIpAssociate;

  constructor(name: string, args: AccessNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canfar:index:AccessNetwork", name, {}, opts);
    const child = { parent: this };

    const group = new openstack.networking.SecGroup(
      `${name}-ssh`,
      { name: `${args.namePrefix}-ssh`, description: `SSH to the canfar-batch build VM of ${args.namePrefix}` },
      child,
    );
    args.sshIngressCidrs.forEach((cidr, i) => {
      const parsed = parseCidr(cidr);
      // The schema has already rejected bad CIDRs; this guards direct use of the component.
      if (typeof parsed === "string") throw new Error(`AccessNetwork '${name}': sshIngressCidrs[${i}]: ${parsed}`);
      new openstack.networking.SecGroupRule(
        `${name}-ssh-${i}`,
        {
          securityGroupId: group.id,
          direction: "ingress",
          ethertype: parsed.family,
          protocol: "tcp",
          portRangeMin: 22,
          portRangeMax: 22,
          remoteIpPrefix: cidr,
          description: `SSH from ${cidr}`,
        },
        child,
      );
    });

    const network = openstack.networking.getNetworkOutput({ name: args.network }, child);
    const port = new openstack.networking.Port(
      `${name}-port`,
      { name: `${args.namePrefix}-build-port`, networkId: network.id, securityGroupIds: [group.id], adminStateUp: true },
      child,
    );

    const address = floatingAddress(name, args.floatingIp, child);
    this.association = new openstack.networking.FloatingIpAssociate(
      `${name}-fip-assoc`,
      { floatingIp: address, portId: port.id },
      child,
    );
    this.portId = port.id;
    this.securityGroupId = group.id;
    this.publicIp = this.association.floatingIp;
    this.registerOutputs({ portId: this.portId, publicIp: this.publicIp, securityGroupId: this.securityGroupId });
  }
}

/** Allocates an address (owned by the stack) or looks up an adopted one (never owned). */
function floatingAddress(name: string, choice: FloatingIpChoice, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
  if (choice.kind === "allocate") {
    return new openstack.networking.FloatingIp(`${name}-fip`, { pool: choice.pool, description: `canfar-batch ${name}` }, opts).address;
  }
  return openstack.networking.getFloatingIpOutput({ address: choice.address }, opts).apply((found) => {
    if (!found.address) throw new Error(`Error adopting floating IP '${choice.address}': not allocated to this project`);
    return found.address;
  });
}
