/**
 * Prints what the test roots cost: cached-root lookup, overlay mount + cleanup, one chroot
 * command. Run: npx tsx tests/provisioning/bench-overlay.ts (as root; builds the root if missing).
 */
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay } from "../../harness/debian-root";

async function main(): Promise<void> {
  let t = performance.now();
  const base = await cachedRoot(BUILD_VM_RECIPE);
  console.log(`cachedRoot: ${(performance.now() - t).toFixed(0)} ms (${base})`);
  const rounds = 5;
  let mountMs = 0;
  let runMs = 0;
  let cleanupMs = 0;
  for (let i = 0; i < rounds; i++) {
    t = performance.now();
    const root = await mountOverlay(base);
    mountMs += performance.now() - t;
    t = performance.now();
    await root.runOk(["true"]);
    runMs += performance.now() - t;
    t = performance.now();
    await root.cleanup();
    cleanupMs += performance.now() - t;
  }
  const avg = (ms: number): string => `${(ms / rounds).toFixed(0)} ms`;
  console.log(`overlay mount: ${avg(mountMs)}, chroot \`true\`: ${avg(runMs)}, cleanup: ${avg(cleanupMs)} (mean of ${rounds})`);
  console.log(`mount+cleanup per test / one chroot command: ${((mountMs + cleanupMs) / runMs).toFixed(1)}x`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
