import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { parseCidr } from "../domain/cidr";
import type { FloatingIpChoice } from "../domain/floating-ip";


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
  /**
   * The server the address reaches, in the cloud's names: `id` goes into the port's name
   * (`<prefix>-<id>-port`) and, for any server but the build VM, the group's; `label` into
   * the group's description. Default the build VM's, whose names predate this argument.
   */
  server?: { id: string; label: string };
  /** Groups the port carries besides the SSH group (the pool's, on the submit node). */
  extraSecurityGroupIds?: ReadonlyArray<pulumi.Input<string>>;
}

const BUILD_VM = { id: "build", label: "build VM" };

/** The component's type token: part of every URN under it. */
export const ACCESS_NETWORK_TYPE = "canfar:index:AccessNetwork";
/** Its children's ids: each is named `<name>-<id>`. */
export const ACCESS_NETWORK_STEPS = {
  ssh: "ssh",
  /** One SSH rule, named by its CIDR (see the rule below for why). */
  sshRule: (cidr: string) => `ssh-${cidr.replace(/[^A-Za-z0-9]+/g, "-")}`,
  port: "port",
  fip: "fip",
  fipAssoc: "fip-assoc",
} as const;

/**
 * Tutorial steps 2 and 4: a public address reaching the VM over SSH. The port is created
 * here (not by Nova) so the floating IP can be associated with `networking.FloatingIpAssociate`
 * (the compute variant is deprecated) and outlives server replacement.
 */
export class AccessNetwork extends pulumi.ComponentResource {
  readonly securityGroup: openstack.networking.SecGroup;
  readonly port: openstack.networking.Port;
  /** The allocated address; undefined when an existing one is adopted. */
  readonly floatingIpResource?: openstack.networking.FloatingIp;
  readonly portId: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** The association; SSH steps depend on it, or they dial an address not yet routed. */
  readonly association: openstack.networking.FloatingIpAssociate;
  /** The project network, looked up by name: other ports of the stack go on it too. */
  readonly networkId: pulumi.Output<string>;

  constructor(name: string, args: AccessNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ACCESS_NETWORK_TYPE, name, {}, opts);
    const child = { parent: this };
    const server = args.server ?? BUILD_VM;
    const groupName = server.id === BUILD_VM.id ? `${args.namePrefix}-ssh` : `${args.namePrefix}-${server.id}-ssh`;

    const group = new openstack.networking.SecGroup(
      `${name}-${ACCESS_NETWORK_STEPS.ssh}`,
      { name: groupName, description: `SSH to the canfar-batch ${server.label} of ${args.namePrefix}` },
      child,
    );
    this.securityGroup = group;
    const seen = new Set<string>();
    args.sshIngressCidrs.forEach((cidr, i) => {
      const parsed = parseCidr(cidr);
      // The schema has already rejected bad CIDRs; this guards direct use of the component.
      if (typeof parsed === "string") throw new Error(`AccessNetwork '${name}': sshIngressCidrs[${i}]: ${parsed}`);
      if (seen.has(cidr)) throw new Error(`AccessNetwork '${name}': sshIngressCidrs[${i}]: '${cidr}' is listed twice`);
      seen.add(cidr);
      new openstack.networking.SecGroupRule(
        // Named by its CIDR, not its position: removing one range must delete that rule
        // only. By position, every later rule would be replaced, create-before-delete, by a
        // copy of the next one while that one still exists, and Neutron refuses duplicate
        // rules (409). The alias keeps the rules of stacks made when names were positions.
        `${name}-${ACCESS_NETWORK_STEPS.sshRule(cidr)}`,
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
        { ...child, aliases: [{ name: `${name}-ssh-${i}` }] },
      );
    });

    const network = openstack.networking.getNetworkOutput({ name: args.network }, child);
    // A new network means a new port; the old one goes first, together with the server on it.
    const port = new openstack.networking.Port(
      `${name}-${ACCESS_NETWORK_STEPS.port}`,
      { name: `${args.namePrefix}-${server.id}-port`, networkId: network.id, securityGroupIds: [group.id, ...(args.extraSecurityGroupIds ?? [])], adminStateUp: true },
      { ...child, deleteBeforeReplace: true },
    );
    this.port = port;

    const address = floatingAddress(name, args.floatingIp, child);
    this.floatingIpResource = address.resource;
    // A floating IP carries one association and a fixed IP one floating IP: a new association
    // made before the old one is gone is refused, and the old one's delete would then clear
    // the port of the new one. So the old association always goes first.
    this.association = new openstack.networking.FloatingIpAssociate(
      `${name}-${ACCESS_NETWORK_STEPS.fipAssoc}`,
      { floatingIp: address.address, portId: port.id },
      { ...child, deleteBeforeReplace: true },
    );
    this.portId = port.id;
    this.networkId = network.id;
    this.securityGroupId = group.id;
    this.publicIp = this.association.floatingIp;
    this.registerOutputs({ portId: this.portId, publicIp: this.publicIp, securityGroupId: this.securityGroupId });
  }
}

/** Allocates an address (owned by the stack) or looks up an adopted one (never owned). */
function floatingAddress(
  name: string,
  choice: FloatingIpChoice,
  opts: pulumi.CustomResourceOptions,
): { address: pulumi.Output<string>; resource?: openstack.networking.FloatingIp } {
  if (choice.kind === "allocate") {
    // A project usually has quota for one floating IP: a new one (another pool) can only be
    // allocated once the old one is released.
    const resource = new openstack.networking.FloatingIp(
      `${name}-${ACCESS_NETWORK_STEPS.fip}`,
      { pool: choice.pool, description: `canfar-batch ${name}` },
      { ...opts, deleteBeforeReplace: true },
    );
    return { address: resource.address, resource };
  }
  const address = openstack.networking.getFloatingIpOutput({ address: choice.address }, opts).apply((found) => {
    if (!found.address) throw new Error(`Error adopting floating IP '${choice.address}': not allocated to this project`);
    return found.address;
  });
  return { address };
}
