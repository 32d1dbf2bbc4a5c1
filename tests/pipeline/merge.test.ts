import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { EXIT, runPipeline, serialCatalogue, tempDir, TOOLS, withoutProvenance } from "./support";

// The pipeline cuts the CCDs into chunks run in parallel and merges their catalogues; the
// result must be the catalogue of one source-extractor run over the whole file, byte for
// byte (same rows, same order, same EXT_NUMBER and NUMBER). 11 CCDs: chunks of unequal size,
// and two-digit extension numbers, whose width the merge must keep.
const why = missing({ commands: TOOLS });
const ID = "2000001p";

describe.skipIf(why)("merged parallel catalogue equals the serial run", () => {
  let source: string;
  let work: string;
  let serial: string;

  beforeAll(async () => {
    source = tempDir("merge-src");
    work = tempDir("merge-work");
    await writeExposure({ id: ID, outDir: source, ccds: 11, width: 500, height: 800, seed: 7, starsPerCcd: 40 });
    serial = serialCatalogue(join(source, `${ID}.fits.fz`), work);
  });
  afterAll(() => {
    for (const d of [source, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("has sources in every extension, NUMBER restarting at 1 in each (what SExtractor does)", () => {
    const rows = serial.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => l.trim().split(/\s+/).map(Number));
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    expect(rows.filter((r) => r[0] === 1).length).toBe(11);
  });

  it.each(["1", "2", "3", "16"])("CATALOGUE_JOBS=%s gives the serial catalogue", (jobs) => {
    const dest = tempDir(`merge-dest-${jobs}`);
    try {
      const r = runPipeline(ID, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: jobs });
      expect(r.status, r.stderr).toBe(EXIT.ok);
      expect(r.stderr).toContain("ccd 11/11 done");
      // The provenance lines (which hold the time) come first; the rest is SExtractor's.
      expect(withoutProvenance(readFileSync(join(dest, `${ID}.cat`), "utf8"))).toBe(serial);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
