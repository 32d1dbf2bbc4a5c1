import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";

export interface BuildVmArgs {
  /** Server name as shown in the dashboard. */
  serverName: string;
  /** Image name (`canfar-ubuntu-20.04`); the most recent image of that name is used. */
  image: string;
  /** Flavor name (`c2-7.5gb-30`); needs an ephemeral disk for /mnt/scratch. */
  flavor: string;
  keyPairName: pulumi.Input<string>;
  /** Port from AccessNetwork: carries the security group and the floating IP. */
  portId: pulumi.Input<string>;
  /** `#cloud-config` user-data. Changing it replaces the server. */
  userData: string;
}

/** Tutorial step 3: the VM that becomes the worker image. */
export class BuildVm extends pulumi.ComponentResource {
  readonly instanceId: pulumi.Output<string>;
  readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: BuildVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canfar:index:BuildVm", name, {}, opts);
    // Resolving the name to an id pins the server to one image: CANFAR republishes its base
    // images under the same name, and a new one should rebuild the VM deliberately.
    const image = openstack.images.getImageOutput({ name: args.image, mostRecent: true }, { parent: this });
    const instance = new openstack.compute.Instance(
      `${name}-server`,
      {
        name: args.serverName,
        imageId: image.id,
        flavorName: args.flavor,
        keyPair: args.keyPairName,
        networks: [{ port: args.portId }],
        userData: args.userData,
        metadata: { "canfar-batch": "build-vm" },
      },
      { parent: this },
    );
    this.instanceId = instance.id;
    this.imageId = image.id;
    this.registerOutputs({ instanceId: this.instanceId, imageId: this.imageId });
  }
}
