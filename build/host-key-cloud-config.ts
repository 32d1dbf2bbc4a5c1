/** A host key pair as cloud-init installs it: the private key, and the `ssh-ed25519 AAAA...` line. */
export interface CloudInitHostKey {
  privateKey: string;
  publicKey: string;
}

/**
 * The cloud-config keys that make `hostKey` a VM's only SSH host key (the build VM's and the
 * submit node's, each pinned by every connection to it): the image's keys deleted, the
 * given one written.
 *
 * `ssh_genkeytypes` names the given type only. cloud-init (22.4 in Debian 12, and upstream
 * since) does not generate keys at all when `ssh_keys` is set, so the list changes nothing on
 * the VM; were one to consult it, it generates only a type that has no key yet, and ed25519
 * has one. `[]` said the same, but the schema refuses an empty list ("too short"), and a
 * newer cloud-init reports that as an error of the whole user-data.
 */
export function hostKeyCloudConfig(hostKey: CloudInitHostKey): Record<string, unknown> {
  return {
    ssh_deletekeys: true,
    ssh_genkeytypes: ["ed25519"],
    ssh_keys: { ed25519_private: hostKey.privateKey, ed25519_public: hostKey.publicKey },
  };
}
