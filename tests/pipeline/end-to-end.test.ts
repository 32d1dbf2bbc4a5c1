import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { CachedExposure, ensureSampleExposure } from "../../tools/fits/sample-cache";
import { Catalogue, EXIT, filesUnder, readCatalogue, readStars, RunResult, runPipeline, starRecovery, tempDir, TOOLS, withoutProvenance } from "./support";

// One full-size MegaCam-like exposure (36 CCDs of 2048x4612, 340 MB packed) through the
// pipeline with two jobs: the catalogue must find the injected stars where they were put.
const why = missing({ commands: TOOLS });

const REQUIRED_COLUMNS = ["NUMBER", "EXT_NUMBER", "X_IMAGE", "Y_IMAGE", "ALPHA_J2000", "DELTA_J2000", "MAG_AUTO", "MAGERR_AUTO", "FLUX_AUTO", "FLAGS"];

describe.skipIf(why)("do_catalogue.bash end to end on a 36-CCD exposure", () => {
  let sample: CachedExposure;
  let dest: string;
  let result: RunResult;
  let cat: Catalogue;

  beforeAll(async () => {
    sample = await ensureSampleExposure({ ccds: 36, width: 2048, height: 4612, seed: 1 }, (l) => console.log(`sample: ${l}`));
    dest = tempDir("e2e-dest");
    result = runPipeline(sample.id, { CATALOGUE_SOURCE: sample.dir, CATALOGUE_DEST: dest, CATALOGUE_JOBS: "2" });
    if (result.status === 0) cat = readCatalogue(join(dest, `${sample.id}.cat`));
  });
  afterAll(() => {
    if (dest) rmSync(dest, { recursive: true, force: true });
  });

  it("exits 0 leaving exactly one catalogue ID.cat at the destination", () => {
    expect(result.stderr).toContain("ccd 36/36 done");
    expect(result.status).toBe(EXIT.ok);
    expect(filesUnder(dest)).toEqual([`${sample.id}.cat`]);
  });

  it("writes the position and magnitude columns in an ASCII_HEAD header", () => {
    for (const c of REQUIRED_COLUMNS) expect(cat.columns).toContain(c);
    expect(withoutProvenance(cat.text).startsWith("#   1 NUMBER")).toBe(true);
    const ext = cat.columns.indexOf("EXT_NUMBER");
    expect(new Set(cat.rows.map((r) => r[ext]))).toEqual(new Set(Array.from({ length: 36 }, (_, i) => i + 1)));
  });

  it("finds at least 95 % of the injected stars brighter than 10 sigma within 1 pixel, at the right sky position", () => {
    const { total, found, worstWcs } = starRecovery(cat, readStars(sample.starsPath));
    expect(total).toBeGreaterThan(5000);
    console.log(`found ${found}/${total} stars above 10 sigma; worst WCS disagreement ${worstWcs.toFixed(4)}"`);
    expect(found / total).toBeGreaterThanOrEqual(0.95);
    expect(worstWcs).toBeLessThan(0.005);
  });
});
