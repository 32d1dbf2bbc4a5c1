import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { execOk } from "./exec";
import { withFileLock } from "./file-lock";
import { openRoot } from "./root-handle";

/*
 * Throwaway Debian machines for tests, without VMs:
 *
 *   const base = await cachedRoot(BUILD_VM_RECIPE);   // built once (~2.5 min), then cached
 *   const root = await mountOverlay(base);            // per test: overlay, /proc, /dev
 *   try {
 *     await root.runOk(["useradd", "-m", "jdoe"]);
 *     const r = await root.run("id -un", { user: "jdoe" });
 *   } finally {
 *     await root.cleanup();                            // kills, unmounts, removes temp dirs
 *   }
 *
 * Needs root, debootstrap, util-linux (unshare, nsenter, flock) and the Debian mirror.
 */
export { mountOverlay, withOverlay, type RootHandle, type RunOptions } from "./root-handle";

/** What a cached Debian root is built from; its hash names the cache entry. */
export interface RootRecipe {
  suite: "bookworm" | "trixie";
  /** Packages apt installs (without recommends) into the minbase root. */
  include: string[];
  /** Bash run as root inside the new root (with /proc and /dev) before it is cached. */
  extraSetup?: string;
}

/**
 * Stand-in for the build VM (design §4): what a CANFAR Ubuntu image brings that the
 * provisioning scripts rely on. The system test uses the same constant, so one cache entry.
 */
export const BUILD_VM_RECIPE: RootRecipe = {
  suite: "bookworm",
  include: ["openssh-server", "sudo", "cloud-init", "locales"],
  // Ubuntu cloud images ship en_US.UTF-8 generated; cloud-init's locale module sets it and
  // fails (status: error) where it is missing, as in a bare debootstrap.
  extraSetup: "sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen && locale-gen",
};

// Bump when the build steps below change: old cache entries then stop matching.
const BUILDER_VERSION = 2;
const COMPLETE_MARKER = ".canfar-batch-root-complete";

/** Where cached roots live: outside the repo, so they survive a fresh clone. */
export function rootCacheDir(): string {
  return join(process.env.CANFAR_BATCH_CACHE ?? join(homedir(), ".cache", "canfar-batch"), "roots");
}

/** The Debian mirror the host's apt uses (deb822 or one-line format); deb.debian.org if none. */
export function debianMirror(): string {
  const files: string[] = [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  const d = "/etc/apt/sources.list.d";
  if (existsSync(d)) for (const f of readdirSync(d).sort()) files.push(join(d, f));
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const uris = [
      ...[...text.matchAll(/^URIs:\s*(\S+)/gm)].map((m) => m[1]),
      ...[...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)].map((m) => m[1]),
    ];
    const main = uris.find((u): u is string => u !== undefined && /\/debian\/?$/.test(u));
    if (main !== undefined) return main.replace(/\/$/, "");
  }
  return "http://deb.debian.org/debian";
}

export function recipeHash(recipe: RootRecipe, mirror: string): string {
  const canonical = JSON.stringify({
    builder: BUILDER_VERSION,
    suite: recipe.suite,
    include: [...recipe.include].sort(),
    extraSetup: recipe.extraSetup ?? "",
    mirror,
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/**
 * Path of a complete Debian root built from `recipe`, building it first when the cache
 * has none. Built in a temp dir and renamed when done, so a half-built root is never used;
 * a flock keeps parallel test workers from building the same root twice.
 */
export async function cachedRoot(recipe: RootRecipe): Promise<string> {
  const mirror = debianMirror();
  const cache = rootCacheDir();
  const final = join(cache, `${recipe.suite}-${recipeHash(recipe, mirror)}`);
  if (existsSync(join(final, COMPLETE_MARKER))) return markUsed(final);
  mkdirSync(cache, { recursive: true });
  return withFileLock(`${final}.lock`, async () => {
    // Another worker may have finished the build while this one waited for the lock.
    if (!existsSync(join(final, COMPLETE_MARKER))) {
      await build(recipe, mirror, final);
      pruneUnused(cache);
    }
    return markUsed(final);
  });
}

// `<root>.used` is touched on every use (beside the root: the root itself may be an
// overlay's lower layer just then); roots of old recipes go after this long unused.
const UNUSED_FOR_MS = 14 * 24 * 3600 * 1000;

function markUsed(root: string): string {
  const now = new Date();
  const used = `${root}.used`;
  if (existsSync(used)) utimesSync(used, now, now);
  else writeFileSync(used, "");
  return root;
}

/** Removes roots no test has used for UNUSED_FOR_MS (each ~350 MB): recipes change. */
function pruneUnused(cache: string): void {
  for (const name of readdirSync(cache)) {
    const root = join(cache, name);
    if (!existsSync(join(root, COMPLETE_MARKER))) continue;
    const stamp = existsSync(`${root}.used`) ? `${root}.used` : join(root, COMPLETE_MARKER);
    if (Date.now() - statSync(stamp).mtimeMs < UNUSED_FOR_MS) continue;
    progress(`removing ${name}: unused for ${UNUSED_FOR_MS / 86_400_000} days`);
    rmSync(root, { recursive: true, force: true });
    rmSync(`${root}.lock`, { force: true });
    rmSync(`${root}.used`, { force: true });
  }
}

async function build(recipe: RootRecipe, mirror: string, final: string): Promise<void> {
  const tmp = `${final}.building`;
  // Only a builder holding the lock gets here, so any leftover is from a dead build.
  rmSync(tmp, { recursive: true, force: true });
  rmSync(final, { recursive: true, force: true });
  const started = Date.now();
  progress(`building ${recipe.suite} root (${recipe.include.join(",")}) into ${tmp} from ${mirror}`);
  // Private mount namespace: debootstrap's own /proc and /sys mounts cannot outlive it.
  await execOk(
    ["unshare", "--mount", "--propagation", "private", "--", "debootstrap", "--variant=minbase", recipe.suite, tmp, mirror],
    { timeoutMs: 1_200_000 },
  );
  progress(`debootstrap done in ${seconds(started)}`);
  const root = await openRoot(tmp, { overlay: false, sys: false });
  try {
    // Package installs in tests (cloud-init, extraSetup) must not start daemons in a chroot.
    await root.runOk(["sh", "-c", "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d"]);
    if (recipe.include.length > 0) {
      // apt, not debootstrap --include: debootstrap cannot resolve virtual packages
      // (cloud-init → python3-cryptography → python3-cffi-backend-api-min fails).
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      await root.runOk(["apt-get", "update", "-q"], { env, timeoutMs: 600_000 });
      await root.runOk(["apt-get", "install", "-y", "-q", "--no-install-recommends", ...recipe.include], { env, timeoutMs: 1_200_000 });
      progress(`installed ${recipe.include.join(",")} at ${seconds(started)}`);
    }
    if (recipe.extraSetup !== undefined) {
      progress("running extraSetup");
      await root.runOk(recipe.extraSetup, { env: { DEBIAN_FRONTEND: "noninteractive" }, timeoutMs: 1_200_000 });
    }
    await root.runOk(["apt-get", "clean"]);
  } finally {
    await root.cleanup();
  }
  writeFileSync(join(tmp, COMPLETE_MARKER), `${JSON.stringify(recipe)}\n`);
  renameSync(tmp, final);
  progress(`root ready in ${seconds(started)}: ${final}`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function progress(msg: string): void {
  process.stderr.write(`[debian-root] ${msg}\n`);
}
