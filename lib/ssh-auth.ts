import * as pulumi from "@pulumi/pulumi";
import type { types } from "@pulumi/command";

/**
 * How every SSH connection of the stack authenticates: with the private key from the
 * stack's config (a secret, optionally passphrase-protected), or with the admin's running
 * ssh-agent, in which case no private key is in the config or the state at all.
 */
export type SshAuth = { kind: "key"; privateKey: pulumi.Output<string>; passphrase?: pulumi.Output<string> } | { kind: "agent" };

/**
 * The connection fields for `auth`. With the agent, nothing: pulumi-command then uses
 * SSH_AUTH_SOCK of the `pulumi up` that runs it. The socket path is left out on purpose:
 * it differs in every login session, and in the connection it would re-run every step.
 */
export function connectionAuth(auth: SshAuth): Pick<types.input.remote.ConnectionArgs, "privateKey" | "privateKeyPassword"> {
  if (auth.kind === "agent") return {};
  return { privateKey: auth.privateKey, ...(auth.passphrase ? { privateKeyPassword: auth.passphrase } : {}) };
}

/** The secret parts of `auth`, for triggers that must follow a new key (empty with the agent). */
export function authSecrets(auth: SshAuth): pulumi.Output<string>[] {
  return auth.kind === "agent" ? [] : [auth.privateKey, ...(auth.passphrase ? [auth.passphrase] : [])];
}
