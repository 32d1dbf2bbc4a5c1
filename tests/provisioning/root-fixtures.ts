import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, beforeAll, beforeEach } from "vitest";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay } from "../../harness/debian-root";
import { writeRootFile } from "../../harness/root-files";
import type { RootHandle } from "../../harness/root-handle";

const PROVISIONING = join(__dirname, "..", "..", "provisioning");

/**
 * Copies provisioning/<name> (`build-vm/create-user.sh`) into the root's /usr/local/sbin, as
 * the provisioning step delivers it: with the library it sources beside it.
 */
export async function installScript(root: RootHandle, name: string): Promise<string> {
  const target = `/usr/local/sbin/${basename(name)}`;
  await writeRootFile(root, target, readFileSync(join(PROVISIONING, name), "utf8"), "755");
  await writeRootFile(root, "/usr/local/sbin/cli.sh", readFileSync(join(PROVISIONING, "lib", "cli.sh"), "utf8"), "644");
  return target;
}

/** Writes an executable file into the root (never through root.path(): symlinks there point at the host). */
export async function writeExecutable(root: RootHandle, path: string, content: string): Promise<void> {
  await writeRootFile(root, path, content, "755");
}

/**
 * Every path under `paths` with type, mode, owner, size, mtime and content hash, sorted:
 * equal listings before and after a re-run mean the re-run changed nothing.
 */
export async function stateListing(root: RootHandle, paths: readonly string[]): Promise<string> {
  const r = await root.runOk([
    "bash", "-c",
    `for p in "$@"; do [ -e "$p" ] || { echo "absent $p"; continue; }
       find "$p" -xdev -printf '%p %y %m %u:%g %s %T@\\n'
       find "$p" -xdev -type f -exec sha256sum {} +
     done | sort`,
    "listing", ...paths,
  ]);
  return r.stdout;
}

/**
 * Registers the hooks that give every test of the calling `describe` a fresh overlay of the
 * build-VM root with provisioning/<name> installed; `ready` receives both (and may prepare
 * more) before each test. The overlay is cleaned up after each test, also when it fails.
 */
export function freshRootEachTest(name: string, ready: (root: RootHandle, script: string) => void | Promise<void>): void {
  let base: string;
  let root: RootHandle | undefined;
  beforeAll(async () => {
    base = await cachedRoot(BUILD_VM_RECIPE);
  });
  beforeEach(async () => {
    root = await mountOverlay(base);
    await ready(root, await installScript(root, name));
  });
  afterEach(async () => {
    await root?.cleanup();
    root = undefined;
  });
}
