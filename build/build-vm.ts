import * as pulumi from "@pulumi/pulumi";
import type { CloudAccess } from "../lib/cloud-access";
import * as openstack from "@pulumi/openstack";
import { local } from "@pulumi/command";
import { LOG_BOTH, SAME_AS_UNSET_LOGGING } from "../lib/command-logging";

export interface BuildVmArgs {
  /** Server name as shown in the dashboard. */
  serverName: string;
  /** Image name (`canfar-ubuntu-20.04`); the most recent image of that name when first built. */
  image: string;
  /** The cloud it is looked up in: another cloud has other image ids. */
  cloud: CloudAccess;
  /** Flavor name (`c2-7.5gb-30`); needs an ephemeral disk for /mnt/scratch. */
  flavor: string;
  keyPairName: pulumi.Input<string>;
  /** Port from AccessNetwork: carries the security group and the floating IP. */
  portId: pulumi.Input<string>;
  /** `#cloud-config` user-data (a secret: it holds the host key). Changing it replaces the server. */
  userData: pulumi.Input<string>;
}

/** The component's type token: part of every URN under it. */
export const BUILD_VM_TYPE = "canfar:index:BuildVm";
/** Its children's ids: each is named `<name>-<id>`. */
export const BUILD_VM_STEPS = { baseImage: "base-image", server: "server" } as const;

/**
 * Tutorial step 3: the VM that becomes the worker image.
 *
 * Every change to what the VM is built from (image, flavor, user-data, key pair, port)
 * replaces it, deleting the old server first: the server sits on a port made beforehand,
 * and Nova refuses a second server on a port the first still holds (409 "port in use").
 * The provider would resize a flavor change and rebuild an image change in place; both
 * would leave a server whose provisioning no step re-runs, so they replace it too.
 */
export class BuildVm extends pulumi.ComponentResource {
  readonly instance: openstack.compute.Instance;
  /** The base image resolved when the server was built (see `baseImage`). */
  readonly baseImage: local.Command;
  readonly instanceId: pulumi.Output<string>;
  /** The base image id the server is built from: stays what it was until the server is replaced. */
  readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: BuildVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(BUILD_VM_TYPE, name, {}, opts);
    const resolved = openstack.images.getImageOutput({ name: args.image, mostRecent: true }, { parent: this });
    // CANFAR republishes its base images under the same name. The name is looked up again
    // on every run (getImage); taking that id directly would rebuild a running stack each
    // time it changes, so the server takes its id from this resource instead, which keeps
    // the id of its first run (later lookups are ignored) until the name or cloud changes,
    // or the admin asks with `pulumi up --replace <this resource's URN>`.
    this.baseImage = new local.Command(
      `${name}-${BUILD_VM_STEPS.baseImage}`,
      {
        environment: { BASE_IMAGE_ID: resolved.id },
        create: `printf '%s' "$BASE_IMAGE_ID"`,
        update: `printf '%s' "$PULUMI_COMMAND_STDOUT"`,
        triggers: [args.image, args.cloud.name],
        // The pinned id, worth seeing: which base image the server is built from.
        logging: LOG_BOTH,
      },
      { parent: this, ignoreChanges: ["environment", ...SAME_AS_UNSET_LOGGING] },
    );
    this.imageId = this.baseImage.stdout;
    this.instance = new openstack.compute.Instance(
      `${name}-${BUILD_VM_STEPS.server}`,
      {
        name: args.serverName,
        imageId: this.imageId,
        flavorName: args.flavor,
        keyPair: args.keyPairName,
        networks: [{ port: args.portId }],
        userData: args.userData,
        metadata: { "canfar-batch": "build-vm", "canfar-batch-base-image": args.image },
      },
      {
        parent: this,
        deleteBeforeReplace: true,
        replaceOnChanges: ["imageId", "flavorName"],
        // The snapshot stops the server and start-server.sh starts it again when provisioning
        // re-runs: the power state is the program's scripts' to manage, never the provider's
        // (after a `pulumi refresh` it would start a stopped server on the next `up`).
        ignoreChanges: ["powerState"],
      },
    );
    this.instanceId = this.instance.id;
    this.registerOutputs({ instanceId: this.instanceId, imageId: this.imageId });
  }
}
