import * as pulumi from "@pulumi/pulumi";
import type { CloudAccess } from "../lib/cloud-access";
import { local, remote, types } from "@pulumi/command";
import { shellQuote } from "../lib/shell-quote";
import { contentTag, PACKAGE_VERSIONS_SCRIPT, QUIESCE_SCRIPT } from "./content-hash";
import { REPO_ROOT } from "../lib/repo-root";
import { LOG_BOTH, SAME_AS_UNSET_LOGGING } from "../lib/command-logging";
import { inPlaceCommand, SCRIPTS } from "../provisioning/scripts";

// Glance takes minutes to save an image; a poll every 10 s costs nothing and overshoots the
// timeout by at most that much.
const SNAPSHOT_POLL_SECONDS = 10;

export interface SnapshotArgs {
  /** SSH to the build VM as its default user (quiesce needs sudo). */
  connection: types.input.remote.ConnectionArgs;
  /** The default user's staging directory (from the provisioning plan). */
  stagingDir: string;
  serverId: pulumi.Input<string>;
  /** Image name prefix: the name is `<prefix>-<UTC date of creation>-<content tag>`. */
  namePrefix: string;
  /**
   * Hash of everything provisioned (plan, user-data, base image, flavor, quiesce.sh). Only
   * a change of it makes a new image; nothing else does.
   */
  contentHash: pulumi.Input<string>;
  /** Packages whose versions are recorded in the image's properties. */
  packages: readonly string[];
  /** Extra provenance recorded as image properties (`canfar_batch_<key>`). */
  provenance: Record<string, pulumi.Input<string>>;
  timeoutSeconds: number;
  /**
   * Keep the image on `pulumi destroy`. A replaced image is always kept: held jobs of the
   * earlier submission still need it for `condor_release`.
   */
  keepOnDestroy: boolean;
  /** Delete the build VM once the image is active (and each new build VM once imaged). */
  deleteBuildVm: boolean;
  /** The stack's cloud: its clouds.yaml name is the openstack CLI's OS_CLOUD. */
  cloud: CloudAccess;
  /** The last provisioning step (the smoke test): nothing is snapshotted before it passed. */
  after: pulumi.Resource;
}

/** The component's type token: part of every URN under it. */
export const SNAPSHOT_TYPE = "canfar:index:Snapshot";
/** Its children's ids: each is named `<name>-<id>`. */
export const SNAPSHOT_STEPS = {
  copyPackageVersions: "copy-package-versions",
  packageVersions: "package-versions",
  copyQuiesce: "copy-quiesce",
  quiesce: "quiesce",
  image: "image",
  deleteOnDestroy: "delete-on-destroy",
  deleteBuildVm: "delete-build-vm",
} as const;

/**
 * Tutorial step 9. A `local.Command` around python-openstackclient rather than a dynamic
 * provider: the CLI already speaks Keystone (clouds.yaml, application credentials, OTP)
 * exactly as the user's own `openstack` commands do, the scripts run and are tested on
 * their own against a stand-in, and a dynamic provider would have to reimplement auth and
 * Glance polling in TypeScript and would serialize its code into the state.
 *
 * Every step here is replaced through `triggers` (content hash and name prefix) and only so,
 * all together: on a new server the quiesce script is copied again before quiesce runs,
 * and quiesce runs only right before an image is made. Any other input change runs
 * `update`, which keeps the image and reprints what `create` printed.
 */
export class Snapshot extends pulumi.ComponentResource {
  readonly image: local.Command;
  readonly imageId: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;
  /**
   * `name=version` of `packages` in the image, as recorded when it was made: the tool
   * versions part of the pipeline's identity (domain/pipeline-identity.ts).
   */
  readonly packageVersions: pulumi.Output<string>;

  constructor(name: string, args: SnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SNAPSHOT_TYPE, name, {}, opts);
    const parent = { parent: this };
    const quiesceScript = `${args.stagingDir}/${SCRIPTS.quiesce.name}`;
    const versionsScript = `${args.stagingDir}/${SCRIPTS.packageVersions.name}`;
    // The prefix too: a new name is a new image (CANFAR finds images by name).
    const triggers = [args.contentHash, args.namePrefix];

    const copyVersions = new remote.CopyToRemote(
      `${name}-${SNAPSHOT_STEPS.copyPackageVersions}`,
      { connection: args.connection, source: new pulumi.asset.FileAsset(PACKAGE_VERSIONS_SCRIPT), remotePath: versionsScript, triggers },
      { ...parent, dependsOn: [args.after] },
    );
    const versions = new remote.Command(
      `${name}-${SNAPSHOT_STEPS.packageVersions}`,
      {
        connection: args.connection,
        create: packageVersionsCommand(versionsScript, args.packages),
        triggers,
        // The versions the image records: no secret, worth seeing.
        logging: LOG_BOTH,
      },
      { ...parent, dependsOn: [args.after, copyVersions], ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
    );
    const copy = new remote.CopyToRemote(
      `${name}-${SNAPSHOT_STEPS.copyQuiesce}`,
      { connection: args.connection, source: new pulumi.asset.FileAsset(QUIESCE_SCRIPT), remotePath: quiesceScript, triggers },
      { ...parent, dependsOn: [args.after] },
    );
    const quiesce = new remote.Command(
      `${name}-${SNAPSHOT_STEPS.quiesce}`,
      {
        connection: args.connection,
        create: `sudo -n bash ${shellQuote(quiesceScript)}`,
        // A new address or key re-runs a command (an update); quiesce must run only right
        // before an image is made, never on a VM that stays as it is.
        update: "true",
        triggers,
        // quiesce.sh's report of what it removed; it prints no file's content.
        logging: LOG_BOTH,
      },
      { ...parent, dependsOn: [versions, copy], ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
    );

    const environment: Record<string, pulumi.Input<string>> = {
      OS_CLOUD: args.cloud.name,
      SERVER_ID: args.serverId,
      IMAGE_PREFIX: args.namePrefix,
      CONTENT_HASH: args.contentHash,
      CONTENT_TAG: pulumi.output(args.contentHash).apply(contentTag),
      PACKAGES: versions.stdout.apply((s) => s.trim()),
      TIMEOUT: String(args.timeoutSeconds),
      POLL: String(SNAPSHOT_POLL_SECONDS),
    };
    const properties = Object.keys(args.provenance).map((key) => {
      const variable = `PROVENANCE_${key.toUpperCase()}`;
      environment[variable] = args.provenance[key];
      return `--property "canfar_batch_${key}=$${variable}"`;
    });
    const image = new local.Command(
      `${name}-${SNAPSHOT_STEPS.image}`,
      {
        dir: REPO_ROOT,
        environment,
        // make-image.sh reads the date and commit when the image is made, so they stay what they were.
        create: [
          `${inPlaceCommand(SCRIPTS.makeImage)} --server "$SERVER_ID" --prefix "$IMAGE_PREFIX" --tag "$CONTENT_TAG"`,
          `--content "$CONTENT_HASH" --packages "$PACKAGES"`,
          ...properties,
          `--timeout "$TIMEOUT" --poll "$POLL"`,
        ].join(" "),
        update: `printf '%s\\n' "$PULUMI_COMMAND_STDOUT"`,
        // No delete here: a replaced image must outlive its replacement (see cleanup below).
        triggers,
        logging: "stderr",
      },
      { ...parent, dependsOn: [quiesce] },
    );
    this.image = image;
    this.packageVersions = versions.stdout.apply((s) => s.trim());
    const created = image.stdout.apply(parseCreateOutput);
    this.imageId = created.apply((c) => c.id);
    this.imageName = created.apply((c) => c.name);

    if (!args.keepOnDestroy) {
      // Deletes the current image on `pulumi destroy`, and only then. A new image is an
      // update of this resource (the id is not a trigger), so the image it replaces is kept
      // for the held jobs of the earlier submission; delete it by hand once they are done.
      new local.Command(
        `${name}-${SNAPSHOT_STEPS.deleteOnDestroy}`,
        {
          dir: REPO_ROOT,
          environment: { OS_CLOUD: args.cloud.name, IMAGE_ID: this.imageId },
          create: `printf 'pulumi destroy will delete image %s\\n' "$IMAGE_ID"`,
          update: `printf 'pulumi destroy will delete image %s (the one it replaced is kept)\\n' "$IMAGE_ID"`,
          delete: `${inPlaceCommand(SCRIPTS.deleteImage)} --image "$IMAGE_ID"`,
          // What destroy will do, and delete-image.sh's progress: ids only.
          logging: LOG_BOTH,
        },
        { ...parent, dependsOn: [image], ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
      );
    }

    if (args.deleteBuildVm) {
      new local.Command(
        `${name}-${SNAPSHOT_STEPS.deleteBuildVm}`,
        {
          dir: REPO_ROOT,
          environment: { OS_CLOUD: args.cloud.name, SERVER_ID: args.serverId, IMAGE_ID: this.imageId },
          create: `${inPlaceCommand(SCRIPTS.deleteServer)} --server "$SERVER_ID" --image "$IMAGE_ID"`,
          // Once per image and server: a new image or a new build VM (provisioned again
          // after a key change, say, without a new image) are the only reasons to run again.
          update: "true",
          triggers: [this.imageId, args.serverId],
          // delete-server.sh's progress: ids only.
          logging: LOG_BOTH,
        },
        { ...parent, dependsOn: [image], ignoreChanges: [...SAME_AS_UNSET_LOGGING] },
      );
    }
    this.registerOutputs({ imageId: this.imageId, imageName: this.imageName });
  }
}

/** Runs the staged package-versions.sh: `pkg=version` for each package, on Debian/Ubuntu or RPM systems. */
export function packageVersionsCommand(script: string, packages: readonly string[]): string {
  return ["bash", script, ...packages].map(shellQuote).join(" ");
}

export interface CreatedImage {
  id: string;
  name: string;
  status: string;
}

/** create-image.sh prints exactly one JSON line on success. */
export function parseCreateOutput(stdout: string): CreatedImage {
  const line = stdout.trim().split("\n").pop() ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`Error reading ${SCRIPTS.createImage.name} output: expected one JSON line, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  const c = parsed as Partial<CreatedImage>;
  if (typeof c.id !== "string" || typeof c.name !== "string" || c.status !== "active") {
    throw new Error(`Error reading ${SCRIPTS.createImage.name} output: expected {id, name, status: "active"}, got ${line.slice(0, 200)}`);
  }
  return { id: c.id, name: c.name, status: c.status };
}
