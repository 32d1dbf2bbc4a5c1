import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";

export interface KeyPairArgs {
  /**
   * Nova key pair name. Key pairs belong to the OpenStack *user*, not the project, so the
   * name must carry project and stack or two stacks of one user overwrite each other.
   */
  name: string;
  /** OpenSSH public key line. The private key never goes to OpenStack (it would sit in state). */
  publicKey: pulumi.Input<string>;
}

/** The component's type token: part of every URN under it. */
export const KEY_PAIR_TYPE = "canfar:index:KeyPair";
/** Its children's ids: each is named `<name>-<id>`. */
export const KEY_PAIR_STEPS = { keypair: "keypair" } as const;

/** Tutorial step 1: import an SSH public key as a key pair. */
export class KeyPair extends pulumi.ComponentResource {
  readonly keypair: openstack.compute.Keypair;
  /** Name to pass as `keyPair` to instances. */
  readonly keyPairName: pulumi.Output<string>;

  constructor(name: string, args: KeyPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KEY_PAIR_TYPE, name, {}, opts);
    this.keypair = new openstack.compute.Keypair(
      `${name}-${KEY_PAIR_STEPS.keypair}`,
      { name: args.name, publicKey: args.publicKey },
      // Every input forces a new key pair and the name is fixed: Nova refuses a second key
      // pair of one name (409), so the old one must go first. Said here rather than left to
      // the bridge, which only does so because the name happens to be set explicitly.
      { parent: this, deleteBeforeReplace: true },
    );
    this.keyPairName = this.keypair.name;
    this.registerOutputs({ keyPairName: this.keyPairName });
  }
}
