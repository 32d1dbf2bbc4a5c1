import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { REPO_ROOT } from "../lib/repo-root";
import { inPlaceCommand, SCRIPTS } from "../provisioning/scripts";

/** The build VM's SSH host key pair: the private half for cloud-init, the public one to pin. */
export interface HostKeyPair {
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, without a comment: the form a connection's hostKey takes. */
  publicKey: string;
}

const END = "-----END OPENSSH PRIVATE KEY-----";

/** Reads what generate-host-key.sh prints: the private key, then the public key line. */
export function parseHostKey(stdout: string): HostKeyPair {
  const end = stdout.indexOf(END);
  const publicLine = end < 0 ? "" : stdout.slice(end + END.length).trim();
  const [type, blob] = publicLine.split(/\s+/);
  if (end < 0 || !stdout.includes("-----BEGIN OPENSSH PRIVATE KEY-----") || type !== "ssh-ed25519" || !blob) {
    throw new Error(`Error reading ${SCRIPTS.generateHostKey.name} output: expected an OpenSSH private key, then an ssh-ed25519 public key line`);
  }
  return { privateKey: `${stdout.slice(0, end + END.length).trim()}\n`, publicKey: `${type} ${blob}` };
}

/** The component's type token: part of every URN under it. */
export const HOST_KEY_TYPE = "canfar:index:HostKey";
/** Its children's ids: each is named `<name>-<id>`. */
export const HOST_KEY_STEPS = { generate: "generate" } as const;

/**
 * The build VM's SSH host key, made once per stack on the admin's machine and kept in the
 * state as a secret. Every connection to the VM pins its public half, so no connection
 * (the first included) talks to whoever answers at the floating IP. It outlives server
 * replacement: a new build VM gets the same key, and a restart after quiesce (a first
 * boot) gets it back from the user-data. Workers never see it: quiesce removes it from the
 * image and the workers' cloud-init makes their own.
 */
export class HostKey extends pulumi.ComponentResource {
  readonly command: local.Command;
  readonly privateKey: pulumi.Output<string>;
  readonly publicKey: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super(HOST_KEY_TYPE, name, {}, opts);
    this.command = new local.Command(
      `${name}-${HOST_KEY_STEPS.generate}`,
      {
        dir: REPO_ROOT,
        create: inPlaceCommand(SCRIPTS.generateHostKey),
        // An update (the program's command text changed) keeps the key it made.
        update: `printf '%s' "$PULUMI_COMMAND_STDOUT"`,
        // stdout is the private key: the engine would print every line of it to the console
        // (and CI logs), which additionalSecretOutputs does not prevent. stderr has only errors.
        logging: "stderr",
      },
      { parent: this, additionalSecretOutputs: ["stdout"] },
    );
    const pair = this.command.stdout.apply(parseHostKey);
    this.privateKey = pulumi.secret(pair.apply((p) => p.privateKey));
    // The public half is no secret: it is what SSH shows anyone who connects.
    this.publicKey = pulumi.unsecret(pair.apply((p) => p.publicKey));
    this.registerOutputs({ publicKey: this.publicKey });
  }
}
