import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execCommand } from "../support/exec";

const SCRIPT = resolve(__dirname, "../../provisioning/build-vm/check-tools.sh");

// Fakes on an otherwise empty PATH: which tools exist is the whole input.
describe("check-tools.sh (cloud-init's runcmd)", () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), "check-tools-"));
    symlinkSync("/bin/cat", join(bin, "cat"));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));
  const tools = (...names: string[]) => {
    for (const n of names) writeFileSync(join(bin, n), "#!/bin/sh\n", { mode: 0o755 });
  };
  const run = (args: string[] = []) => execCommand(["/bin/bash", SCRIPT, ...args], { env: { PATH: bin }, timeoutMs: 20_000 });

  it.each([["source-extractor"], ["sex"]])("passes with SExtractor as %s and funpack", async (sextractor) => {
    tools(sextractor, "funpack");
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("fails naming SExtractor when neither of its names is there", async () => {
    tools("funpack");
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("check-tools.sh: error: SExtractor is not on PATH (neither 'source-extractor' nor 'sex'): its package installed no tool\n");
  });

  it("fails naming funpack when it is missing", async () => {
    tools("sex");
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("check-tools.sh: error: funpack is not on PATH");
  });

  it("--help exits 0; an argument is refused with exit 2", async () => {
    expect((await run(["--help"])).code).toBe(0);
    const r = await run(["extra"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("check-tools.sh: error: expected no arguments, got 1");
  });
});
