import { readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { EXIT, filesUnder, readCatalogue, runPipeline, SMOKE_DIR, tempDir, TOOLS } from "./support";

// EPEL's SExtractor package (Rocky) may install the program as `sex`, Debian's and Ubuntu's
// as `source-extractor`: the pipeline (and the smoke test, which runs it) must find either.
const why = missing({ commands: TOOLS });
const ID = "1056213p";
const SYSTEM_DIRS = ["/usr/local/bin", "/usr/bin", "/bin"];

describe.skipIf(why)("do_catalogue.bash with SExtractor installed as `sex` only", () => {
  let bin: string;
  let out: string;
  let scratch: string;

  beforeAll(() => {
    // Every system command, under its own name, except source-extractor: it is there as `sex`.
    bin = tempDir("sex-path");
    const linked = new Set<string>();
    for (const dir of SYSTEM_DIRS) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name === "source-extractor" || name === "sex" || linked.has(name)) continue;
        symlinkSync(join(dir, name), join(bin, name));
        linked.add(name);
      }
    }
    symlinkSync("/usr/bin/source-extractor", join(bin, "sex"));
    out = tempDir("sex-out");
    scratch = tempDir("sex-scratch");
  });
  afterAll(() => {
    for (const d of [bin, out, scratch]) if (d !== undefined) rmSync(d, { recursive: true, force: true });
  });

  it("runs the smoke exposure through `sex` and stores its catalogue", () => {
    const r = runPipeline(ID, { PATH: bin, CATALOGUE_SOURCE: SMOKE_DIR, CATALOGUE_DEST: out, _CONDOR_SCRATCH_DIR: scratch });
    expect(r.stderr).not.toContain("not on PATH");
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(filesUnder(out)).toEqual([`${ID}.cat`]);
    expect(readCatalogue(join(out, `${ID}.cat`)).rows.length).toBeGreaterThan(20);
  });

  it("names both commands when neither is there", () => {
    rmSync(join(bin, "sex"));
    const r = runPipeline(ID, { PATH: bin, CATALOGUE_SOURCE: SMOKE_DIR, CATALOGUE_DEST: out, _CONDOR_SCRATCH_DIR: scratch });
    expect(r.status).toBe(EXIT.internal);
    expect(r.stderr).toContain("SExtractor is not on PATH (neither 'source-extractor' nor 'sex')");
  });
});
