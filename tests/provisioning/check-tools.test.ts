import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { freshFakePath } from "../support/fake-path";

const SCRIPT = resolve(__dirname, "../../provisioning/build-vm/check-tools.sh");

// Fakes on an otherwise empty PATH: which tools exist is the whole input.
describe("check-tools.sh (cloud-init's runcmd)", () => {
  const path = freshFakePath();
  const tools = (...names: string[]) => names.forEach((n) => path.fake(n));
  const run = (args: string[] = []) => path.run(SCRIPT, args);

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

  it("--help exits 0; any argument but --htcondor is refused with exit 2", async () => {
    expect((await run(["--help"])).code).toBe(0);
    const r = await run(["extra"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("check-tools.sh: error: expected no arguments or --htcondor, got 1: 'extra'");
  });

  it("with --htcondor also asks for HTCondor's execute side, naming what is missing", async () => {
    tools("sex", "funpack", "condor_master");
    const r = await run(["--htcondor"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("check-tools.sh: error: condor_startd is not on PATH: the image would have no HTCondor execute side for the pool's workers\n");
    tools("condor_startd");
    expect((await run(["--htcondor"])).code).toBe(0);
    // Without the option a build VM for CANFAR's batch service needs no HTCondor.
    expect((await run()).code).toBe(0);
  });
});
