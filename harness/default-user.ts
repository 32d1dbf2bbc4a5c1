import { addSshUser } from "./root-files";
import type { RootHandle } from "./root-handle";

/**
 * Makes the root look like a cloud image after cloud-init's first boot: the image's default
 * user (`ubuntu` on canfar-ubuntu-20.04) with passwordless sudo, in cloud-init's own
 * drop-in file, and the key pair's public key in its authorized_keys.
 */
export async function addDefaultUser(root: RootHandle, name: string, publicKey: string): Promise<void> {
  await addSshUser(root, name, publicKey);
  await root.runOk([
    "bash", "-c",
    `set -eu
usermod -aG sudo "$1"
printf '%s ALL=(ALL) NOPASSWD:ALL\\n' "$1" > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users`,
    "add-default-user", name,
  ]);
}
