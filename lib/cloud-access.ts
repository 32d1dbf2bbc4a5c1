import * as openstack from "@pulumi/openstack";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The one cloud of a stack, handed to every stage and component: the explicit OpenStack
 * provider every resource is created with (no ambient OS_* variables silently pointing a
 * stack at another project), and its clouds.yaml name, which the openstack CLI of the local
 * commands (OS_CLOUD) and the base-image pin use. Both come from canfar:cloud, here only.
 */
export interface CloudAccess {
  readonly name: string;
  readonly provider: openstack.Provider;
  /** Resource options that make a component's children use the provider. */
  readonly opts: pulumi.ComponentResourceOptions;
}

export function cloudAccess(name: string): CloudAccess {
  const provider = new openstack.Provider("openstack", { cloud: name });
  return { name, provider, opts: { providers: { openstack: provider } } };
}
