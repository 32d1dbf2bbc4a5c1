import { z } from "zod";
import { isIPv4 } from "node:net";
import { DISTROS } from "../../domain/distro";
import { DEFAULTS } from "../defaults";
import { code, type KeyGroup } from "./key-spec";
import { CADC_USER, flavorName, name } from "./parsers";

/** The cloud and the build VM: where it runs, from what image, and how it is reached. */
export const BUILD_VM_KEYS = {
  cloud: {
    parser: name("the cloud's name in clouds.yaml").default(DEFAULTS.cloud),
    kind: "text",
    reference: { what: "clouds.yaml entry (OS_CLOUD) used by the OpenStack provider and CLI", default: code(DEFAULTS.cloud), changes: ["recreated-everything", "new-key-pair", "ssh-rules-changed", "new-port", "new-address", "build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  },
  image: {
    parser: name("an image name such as canfar-ubuntu-20.04").default(DEFAULTS.image),
    kind: "text",
    reference: { what: "base image of the build VM; the most recent image of that name", default: code(DEFAULTS.image), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "a republished image of the same name changes nothing: the id is kept until the name changes" },
  },
  distro: {
    parser: z.enum(DISTROS, { error: `expected one of ${DISTROS.join(", ")}` }).optional(),
    kind: "text",
    reference: { what: "`ubuntu`, `debian` or `rocky`: package names and default login", default: "from the image name", changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "when the package names differ" },
  },
  defaultUser: {
    parser: z.string().regex(CADC_USER, { error: "expected a Linux user name" }).optional(),
    kind: "text",
    reference: { what: "the image's default login, holding the injected key", default: "from the distro", changes: ["starts-build-vm", "provisioning-from:create-user", "new-image", "no-requeue"] },
  },
  flavor: {
    parser: flavorName("c2-7.5gb-30").default(DEFAULTS.flavor),
    kind: "text",
    reference: { what: "build VM flavor; needs an ephemeral disk (`c*`, not `p*`)", default: code(DEFAULTS.flavor), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "never resized in place" },
  },
  network: {
    parser: name("the name of the project network the VM is attached to"),
    kind: "text",
    placeholder: { value: "my-project-network", instead: "your project's network (`openstack network list`)" },
    reference: { what: "project network the VM's port is created on (`openstack network list`)", changes: ["new-port", "address-moved", "build-vm-replaced", "provisioning-from:create-user"], note: "the new VM keeps the image: its content is the same" },
  },
  floatingIpPool: {
    parser: name("the name of the external network floating IPs come from").optional(),
    kind: "text",
    reference: { what: "external network a floating IP is allocated from; conflicts with `floatingIp`", default: code(DEFAULTS.floatingIpPool), changes: ["new-address", "starts-build-vm", "provisioning-from:create-user"], note: "every SSH step runs again at the new address" },
  },
  floatingIp: {
    parser: z.string().refine((v) => isIPv4(v), { error: "expected an IPv4 address already allocated to the project" }).optional(),
    kind: "text",
    reference: { what: "an address the project already holds, adopted (never released by destroy)", default: "unset: allocate", changes: ["address-moved", "starts-build-vm", "provisioning-from:create-user"], note: "every SSH step runs again at the new address" },
  },
} satisfies KeyGroup;
