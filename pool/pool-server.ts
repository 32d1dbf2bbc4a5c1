import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";

/** What a pool member's server is made of. */
export interface PoolServerArgs {
  /** Server name, also its host name and HTCondor machine name. */
  serverName: string;
  /** The worker image the stack just built. */
  imageId: pulumi.Input<string>;
  flavor: string;
  portId: pulumi.Input<string>;
  /** A secret: it holds the pool password (and the submit node's host key). */
  userData: pulumi.Input<string>;
  keyPairName?: pulumi.Input<string>;
  /** `submit-node` or `worker`, in the server's metadata. */
  role: string;
  /**
   * Inputs whose change replaces the server instead of resizing or rebuilding it in place
   * (see the callers: the submit node keeps its image, a worker follows it).
   */
  replaceOnChanges: string[];
  /** Inputs a later `up` leaves as they are. */
  ignoreChanges?: string[];
}

/**
 * A pool member's server, on a port made beforehand: Nova refuses a second server on a port
 * the first still holds (409), so a replacement always deletes the old server first. The
 * power state is left alone, as the build VM's is: a `pulumi refresh` that saw a member
 * stopped by hand must not make the next `up` start it.
 */
export function poolServer(name: string, args: PoolServerArgs, opts: pulumi.CustomResourceOptions): openstack.compute.Instance {
  return new openstack.compute.Instance(
    name,
    {
      name: args.serverName,
      imageId: args.imageId,
      flavorName: args.flavor,
      ...(args.keyPairName === undefined ? {} : { keyPair: args.keyPairName }),
      networks: [{ port: args.portId }],
      userData: args.userData,
      metadata: { "canfar-batch": args.role },
    },
    { ...opts, deleteBeforeReplace: true, replaceOnChanges: args.replaceOnChanges, ignoreChanges: ["powerState", ...(args.ignoreChanges ?? [])] },
  );
}
