import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execOk } from "./exec";

export interface SshKey {
  privateKeyPath: string;
  /** One line, as it goes into authorized_keys. */
  publicKey: string;
  privateKey: string;
}

/** A fresh passphrase-less ed25519 key pair in `dir` (a per-test temp dir). */
export async function makeSshKey(dir: string, name = "id_ed25519"): Promise<SshKey> {
  const privateKeyPath = join(dir, name);
  await execOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "canfar-batch-test", "-f", privateKeyPath]);
  return {
    privateKeyPath,
    publicKey: readFileSync(`${privateKeyPath}.pub`, "utf8").trim(),
    privateKey: readFileSync(privateKeyPath, "utf8"),
  };
}
