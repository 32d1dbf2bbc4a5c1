import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Real tools (debootstrap, source-extractor, sshd) take seconds to minutes; the
    // per-test budget is for hangs, not for speed: speed is measured by the bench scripts.
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
