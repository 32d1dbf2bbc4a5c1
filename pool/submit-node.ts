import * as pulumi from "@pulumi/pulumi";
import type { Distro } from "../domain/distro";
import type { FloatingIpChoice } from "../domain/floating-ip";
import { AccessNetwork } from "../build/access-network";
import { HostKey } from "../build/host-key";
import { poolServer } from "./pool-server";
import { renderPoolUserData } from "./user-data";

export interface SubmitNodeArgs {
  /** Prefix for every cloud-side name (`<project>-<stack>`). */
  namePrefix: string;
  /** The project network, by name, and the ranges SSH is open to (as the build VM's). */
  network: string;
  sshIngressCidrs: readonly string[];
  /** Where its public address comes from: always a new one (the build VM may hold the adopted one). */
  floatingIp: FloatingIpChoice;
  imageId: pulumi.Input<string>;
  flavor: string;
  keyPairName: pulumi.Input<string>;
  distro: Distro;
  /** The pool's security group (HTCondor between members). */
  poolSecurityGroupId: pulumi.Input<string>;
  poolNetwork: pulumi.Input<string>;
  /** A Pulumi secret; it reaches the node only inside its (secret) user-data. */
  poolPassword: pulumi.Input<string>;
}

/** The component's type token: part of every URN under it. */
export const SUBMIT_NODE_TYPE = "canfar:index:SubmitNode";
/** Its children's ids: each is named `<name>-<id>`. */
export const SUBMIT_NODE_STEPS = { access: "access", hostKey: "host-key", server: "server" } as const;

/**
 * The self-hosted pool's central manager and schedd: the jobs are submitted here, over SSH
 * from its floating IP, and the workers report to its fixed IP. It is made from the worker
 * image like the workers, so it has the pipeline's tools and HTCondor, and its host key is
 * made by the program and pinned, as the build VM's is.
 */
export class SubmitNode extends pulumi.ComponentResource {
  readonly access: AccessNetwork;
  readonly hostKey: HostKey;
  readonly server: ReturnType<typeof poolServer>;
  /** Its address on the project network: the workers' CONDOR_HOST. */
  readonly fixedIp: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  readonly hostname: string;

  constructor(name: string, args: SubmitNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SUBMIT_NODE_TYPE, name, {}, opts);
    const child = { parent: this };
    this.hostname = `${args.namePrefix}-submit`;
    this.access = new AccessNetwork(
      `${name}-${SUBMIT_NODE_STEPS.access}`,
      {
        namePrefix: args.namePrefix,
        network: args.network,
        sshIngressCidrs: args.sshIngressCidrs,
        floatingIp: args.floatingIp,
        server: { id: "submit", label: "submit node" },
        extraSecurityGroupIds: [args.poolSecurityGroupId],
      },
      child,
    );
    this.hostKey = new HostKey(`${name}-${SUBMIT_NODE_STEPS.hostKey}`, child);
    this.fixedIp = this.access.port.allFixedIps.apply((ips) => {
      const ip = ips.find((a) => !a.includes(":"));
      if (ip === undefined) throw new Error(`SubmitNode '${name}': its port has no IPv4 address on network '${args.network}'`);
      return ip;
    });
    const userData = pulumi.secret(
      pulumi
        .all([args.poolPassword, args.poolNetwork, this.fixedIp, this.hostKey.privateKey, this.hostKey.publicKey])
        .apply(([poolPassword, poolNetwork, centralManager, privateKey, publicKey]) =>
          renderPoolUserData({ role: "submit", distro: args.distro, hostname: this.hostname, centralManager, poolPassword, poolNetwork, hostKey: { privateKey, publicKey } }),
        ),
    );
    this.server = poolServer(
      `${name}-${SUBMIT_NODE_STEPS.server}`,
      {
        serverName: this.hostname,
        imageId: args.imageId,
        flavor: args.flavor,
        portId: this.access.portId,
        userData,
        keyPairName: args.keyPairName,
        role: "submit-node",
        // A flavor change is a new node, not a resize (see BuildVm). A new worker image is
        // not: the node holds the queue, and the submission still running there would lose
        // it. The node keeps the image it booted from (a replacement takes the current one);
        // the workers, which run the jobs, follow the image.
        replaceOnChanges: ["flavorName"],
        ignoreChanges: ["imageId"],
      },
      child,
    );
    this.publicIp = this.access.publicIp;
    this.registerOutputs({ publicIp: this.publicIp, fixedIp: this.fixedIp });
  }
}
