import type { RootHandle } from "./root-handle";

/**
 * Writes a file into the root through the root's own shell (never through root.path():
 * absolute symlinks there resolve against the host), with an octal mode and owner.
 */
export async function writeRootFile(root: RootHandle, path: string, content: string, mode = "644", owner = "root:root"): Promise<void> {
  await root.runOk(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1" && chown "$3" "$1"', "write", path, mode, owner], {
    stdin: content,
  });
}

/** A login user reached over SSH with `publicKey` (home, bash, .ssh 700, authorized_keys 600). */
export async function addSshUser(root: RootHandle, user: string, publicKey: string): Promise<void> {
  await root.runOk(
    [
      "bash", "-c",
      `set -eu
id -u "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"
install -d -m 700 -o "$1" -g "$1" "/home/$1/.ssh"
cat > "/home/$1/.ssh/authorized_keys"
chown "$1:$1" "/home/$1/.ssh/authorized_keys"
chmod 600 "/home/$1/.ssh/authorized_keys"`,
      "add-ssh-user", user,
    ],
    { stdin: `${publicKey}\n` },
  );
}
