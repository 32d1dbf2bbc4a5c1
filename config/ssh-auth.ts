import type * as pulumi from "@pulumi/pulumi";

/**
 * How every SSH connection of the stack authenticates: with the private key from the
 * stack's config (a secret, optionally passphrase-protected), or with the admin's running
 * ssh-agent, in which case no private key is in the config or the state at all.
 */
export type SshAuth = { kind: "key"; privateKey: pulumi.Output<string>; passphrase?: pulumi.Output<string> } | { kind: "agent" };
