import { readFileSync } from "node:fs";
import { sha256 } from "../lib/sha256";
import { localPath, SCRIPTS } from "../provisioning/scripts";

export function fileHash(path: string): string {
  return sha256(readFileSync(path));
}

/** The short form that goes into image names: 10 hex digits, 40 bits, ample per project. */
export function contentTag(hash: string): string {
  return hash.slice(0, 10);
}

/** The script that prepares the VM for imaging: what it removes is part of the image too. */
export const QUIESCE_SCRIPT = localPath(SCRIPTS.quiesce);

/**
 * Prints the installed packages' versions for the image's properties: a label, not content,
 * so it is not part of the content hash (as the command it replaced was not).
 */
export const PACKAGE_VERSIONS_SCRIPT = localPath(SCRIPTS.packageVersions);

/**
 * Everything that decides what the worker image contains: the provisioning plan (every
 * script and argument), the user-data, the base image and the flavor it was built on, and
 * quiesce.sh. Equal inputs give the same image name; any change gives a new image.
 */
export function imageContentHash(parts: { planHash: string; userData: string; baseImageId: string; flavor: string; quiesceHash: string }): string {
  return sha256("canfar-batch image v2", parts.planHash, parts.userData, parts.baseImageId, parts.flavor, parts.quiesceHash);
}
