import { stringify } from "yaml";
import type { Distro } from "../domain/distro";

/**
 * PLACEHOLDER for the pool nodes' user-data renderer, which branch `pool-core` writes: the
 * interface the program is wired to, returning a minimal #cloud-config. The integrator
 * drops this file in favour of pool-core's.
 */
export type PoolRole = "submit" | "worker";
export const HTCONDOR_PORT = 9618;
export interface PoolUserDataArgs {
  role: PoolRole;
  distro: Distro;
  /** The node's host name (cloud-init `hostname`), also its HTCondor machine name. */
  hostname: string;
  /** Address of the central manager: the submit node's fixed IP on the project network. */
  centralManager: string;
  /** The pool secret in plain text: callers unwrap the Pulumi secret inside an apply and mark the result secret. */
  poolPassword: string;
  /** CIDR of the network the pool's members talk on (HTCondor ALLOW rules). */
  poolNetwork: string;
  hostKey?: { privateKey: string; publicKey: string };
}

export const HTCONDOR_PACKAGES: Record<Distro, readonly string[]> = { ubuntu: ["htcondor"], debian: ["htcondor"], rocky: ["condor"] };

export function renderPoolUserData(args: PoolUserDataArgs): string {
  const doc: Record<string, unknown> = {
    hostname: args.hostname,
    ...(args.hostKey
      ? { ssh_deletekeys: true, ssh_genkeytypes: ["ed25519"], ssh_keys: { ed25519_private: args.hostKey.privateKey, ed25519_public: args.hostKey.publicKey } }
      : {}),
    write_files: [
      {
        path: "/etc/condor/config.d/50-canfar-batch-pool.conf",
        content: `CONDOR_HOST = ${args.centralManager}\nALLOW_WRITE = ${args.poolNetwork}\n# role ${args.role}\n`,
        permissions: "0644",
        owner: "root:root",
      },
      { path: "/etc/condor/passwords.d/POOL", content: args.poolPassword, permissions: "0600", owner: "root:root" },
    ],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
