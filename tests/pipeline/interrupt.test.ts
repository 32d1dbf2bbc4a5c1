import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { filesUnder, PIPELINE, tempDir, TOOLS } from "./support";

// HTCondor ends a job with SIGTERM (condor_rm, preemption, the job's wall-time limit): the
// pipeline must stop its workers, remove its scratch and leave the destination untouched.
const why = missing({ commands: TOOLS });
const ID = "2000002p";

/** Processes whose command line mentions `text` (the scratch path names every worker's files). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

describe.skipIf(why)("do_catalogue.bash on SIGTERM", () => {
  let source: string;
  let dest: string;
  let scratch: string;

  beforeAll(async () => {
    source = tempDir("term-src");
    dest = tempDir("term-dest");
    scratch = tempDir("term-scratch");
    await writeExposure({ id: ID, outDir: source, ccds: 8, width: 1024, height: 2048, seed: 3 });
  });
  afterAll(() => {
    for (const d of [source, dest, scratch]) rmSync(d, { recursive: true, force: true });
  });

  it("exits 143 mid-extraction leaving no workers, no scratch and nothing at the destination", async () => {
    const child = spawn(PIPELINE, [ID], {
      env: { ...process.env, CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, CATALOGUE_JOBS: "2", _CONDOR_SCRATCH_DIR: scratch },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let armed = false;
    const status = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        // Workers are running once the chunks are announced.
        if (stderr.includes("chunks") && !armed) {
          armed = true;
          setTimeout(() => child.kill("SIGTERM"), 200);
        }
      });
      child.on("close", (code) => resolve(code));
    });
    expect(stderr).not.toContain("stored");
    expect(status, stderr).toBe(143);
    expect(filesUnder(dest)).toEqual([]);
    expect(filesUnder(scratch)).toEqual([]);
    expect(processesMentioning(scratch)).toEqual([]);
  });
});
