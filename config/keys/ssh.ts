import { z } from "zod";
import { code, type KeyGroup } from "./key-spec";
import { bool, keyLineIssue, listOf } from "./parsers";

const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;
const SSH_PRIVATE_KEY = /-----BEGIN (OPENSSH|RSA|EC|ENCRYPTED) PRIVATE KEY-----[\s\S]+-----END \1 PRIVATE KEY-----/;

/** SSH: the key pair, how connections authenticate, and who may connect. */
export const SSH_KEYS = {
  sshPublicKey: {
    parser: z
      .string()
      .trim()
      .regex(SSH_PUBLIC_KEY, { error: "expected one OpenSSH public key line (ssh-ed25519 AAAA... comment)" })
      .superRefine((line, ctx) => keyLineIssue(line, SSH_PUBLIC_KEY, 0, ctx)),
    kind: "text",
    placeholder: { value: "AAAAC3NzaC1lZDI1NTE5AAAAIIpEv4uMcbOLzytgkrpX2BXl0eivKchmUVOQWxaP/QFv", instead: "your own public key (`cat ~/.ssh/id_ed25519.pub`)" },
    reference: { what: "OpenSSH public key imported as the key pair", changes: ["new-key-pair", "build-vm-replaced", "provisioning-from:create-user"], note: "the image is kept: its content is the same" },
  },
  sshPrivateKey: {
    parser: z.string().regex(SSH_PRIVATE_KEY, { error: "expected a PEM/OpenSSH private key matching canfar:sshPublicKey" }).optional(),
    kind: "lines",
    secret: true,
    reference: { what: "the matching private key, for every SSH connection (unless `sshAgent`)", default: "required, unless `sshAgent`", changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again with the new key" },
  },
  sshPrivateKeyPassphrase: {
    parser: z.string().min(1, { error: "expected the key's passphrase, not an empty value" }).optional(),
    kind: "text",
    secret: true,
    reference: { what: "the passphrase of a passphrase-protected `sshPrivateKey`", default: "unset: the key is not protected", changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again" },
  },
  sshAgent: {
    parser: bool.default(false),
    kind: "boolean",
    reference: { what: "authenticate with your running ssh-agent (`SSH_AUTH_SOCK`) instead of a private key in the config", default: code("false"), changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again, through the agent" },
  },
  sshIngressCidrs: {
    parser: listOf(z.string().max(64, { error: "expected a CIDR such as 203.0.113.0/24" }), "CIDRs (e.g. [203.0.113.0/24])").refine((l) => l.length > 0, {
      error: "expected at least one CIDR allowed to reach SSH (your site's range, e.g. 203.0.113.0/24)",
    }),
    kind: "list",
    placeholder: { value: "198.51.100.0/24", instead: "the range you connect from (198.51.100.0/24 is reserved for documentation)" },
    reference: { what: "CIDRs allowed to reach SSH (list)", changes: ["ssh-rules-changed"], note: "only the rules of added or removed ranges" },
  },
  allowSshFromAnywhere: {
    parser: bool.default(false),
    kind: "boolean",
    reference: { what: "opt-in for `0.0.0.0/0` or `::/0` in `sshIngressCidrs`", default: code("false"), changes: [] },
  },
} satisfies KeyGroup;
