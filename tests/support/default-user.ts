import type { RootHandle } from "./root-handle";

/**
 * Makes the root look like a cloud image after cloud-init's first boot: the image's default
 * user (`ubuntu` on canfar-ubuntu-20.04) with passwordless sudo, in cloud-init's own
 * drop-in file, and the key pair's public key in its authorized_keys.
 */
export async function addDefaultUser(root: RootHandle, name: string, publicKey: string): Promise<void> {
  await root.runOk(
    [
      "bash", "-c",
      `set -eu
user="$1"
id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
usermod -aG sudo "$user"
printf '%s ALL=(ALL) NOPASSWD:ALL\\n' "$user" > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
install -d -m 700 -o "$user" -g "$user" "/home/$user/.ssh"
cat > "/home/$user/.ssh/authorized_keys"
chown "$user:$user" "/home/$user/.ssh/authorized_keys"
chmod 600 "/home/$user/.ssh/authorized_keys"`,
      "add-default-user", name,
    ],
    { stdin: `${publicKey}\n` },
  );
}
