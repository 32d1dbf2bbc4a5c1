import { z } from "zod";
import { DEFAULTS } from "../defaults";
import { code, type KeyGroup } from "./key-spec";
import { bool, listOf, name, OPENSTACK_NAME_MAX, positiveInt } from "./parsers";

// Debian and RPM package names share this alphabet; anything else would be shell or YAML.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]*$/;

/** `<prefix>-YYYY-MM-DD-<10 hex digits>` must fit Glance's 255 characters. */
export const SNAPSHOT_PREFIX_MAX = OPENSTACK_NAME_MAX - "-YYYY-MM-DD-".length - 10;

/** The worker image: what the build VM installs, and the snapshot made of it. */
export const WORKER_IMAGE_KEYS = {
  upgradePackages: {
    parser: bool.default(false),
    kind: "boolean",
    reference: { what: "upgrade every package of the build VM (apt dist-upgrade / dnf update)", default: code("false"), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  },
  extraPackages: {
    parser: listOf(z.string().regex(PACKAGE_NAME, { error: "expected package names" }), "package names").default([]),
    kind: "list",
    reference: { what: "packages installed beside source-extractor and funpack (list)", default: "none", changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  },
  scratchDevice: {
    parser: z.string().regex(/^\/dev\/[a-z0-9]+$/, { error: "expected a block device path such as /dev/vdb" }).default(DEFAULTS.scratchDevice),
    kind: "text",
    reference: { what: "ephemeral disk mounted on /mnt when nothing is", default: code(DEFAULTS.scratchDevice), changes: ["starts-build-vm", "provisioning-from:setup-scratch", "new-image", "no-requeue"] },
  },
  snapshotPrefix: {
    parser: name("an image name prefix", SNAPSHOT_PREFIX_MAX).default(DEFAULTS.snapshotPrefix),
    kind: "text",
    reference: { what: "worker image name prefix: `<prefix>-<date>-<content hash>`", default: code(DEFAULTS.snapshotPrefix), changes: ["new-image", "no-requeue"] },
  },
  snapshotTimeoutSeconds: {
    parser: positiveInt(60, 86_400).default(DEFAULTS.snapshotTimeoutSeconds),
    kind: "number",
    reference: { what: "how long to wait for the image to become `active`", default: code(String(DEFAULTS.snapshotTimeoutSeconds)), changes: [] },
  },
  keepImageOnDestroy: {
    parser: bool.default(true),
    kind: "boolean",
    reference: { what: "keep the worker image when the stack is destroyed", default: code("true"), changes: ["image-deleted-on-destroy"], note: "set to false; images replaced earlier are never deleted by the stack" },
  },
  deleteBuildVmAfterSnapshot: {
    parser: bool.default(false),
    kind: "boolean",
    reference: { what: "delete the build VM once the image is active (see *The worker image*)", default: code("false"), changes: ["deletes-build-vm"], note: "set to true" },
  },
  allowDistroMismatch: {
    parser: bool.default(false),
    kind: "boolean",
    reference: { what: "opt-in for a `distro` other than the one the image name names (a mislabelled image)", default: code("false"), changes: [] },
  },
} satisfies KeyGroup;
