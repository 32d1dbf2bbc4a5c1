import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { writeExposure } from "../../tools/fits/exposure";
import { doublesEnv, filesUnder, PIPELINE, run, tempDir, TOOLS, withoutProvenance } from "./support";

// Several exposures per job (catalogue-queue.bash): each keeps its own outcome, the science
// does not change, and an interrupted job leaves nothing behind.
const why = missing({ commands: TOOLS });
const IDS = ["2300001p", "2300002p", "2300003p"];
const PIPELINE_ID = "0123456789ab";

describe.skipIf(why)("do_catalogue.bash with several IDs", () => {
  let root: string;
  const archive = (): string => join(root, "archive", "CFHT");
  const vos = (): string => join(root, "vos");
  const log = (): string => join(root, "doubles.log");
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...doublesEnv(log(), { CADC_DOUBLE_ROOT: join(root, "archive"), VOS_DOUBLE_ROOT: vos() }),
    CATALOGUE_RETRY_DELAY: "0",
    CATALOGUE_RETRIES: "1",
    CATALOGUE_JOBS: "2",
    _CONDOR_SCRATCH_DIR: join(root, "scratch"),
    ...extra,
  });
  const cadcgetCalls = (): string[] =>
    readFileSync(log(), "utf8").split("\n").filter((l) => l.startsWith("cadcget ")).map((l) => /([0-9]+[a-z])\.fits\.fz/.exec(l)?.[1] ?? l);

  beforeAll(async () => {
    root = tempDir("queue");
    mkdirSync(archive(), { recursive: true });
    mkdirSync(join(root, "scratch"));
    mkdirSync(join(root, "spare"));
    for (const [i, id] of IDS.entries()) {
      await writeExposure({ id, outDir: join(root, "spare"), ccds: 4, width: 512, height: 1024, seed: 10 + i });
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const place = (id: string): void => copyFileSync(join(root, "spare", `${id}.fits.fz`), join(archive(), `${id}.fits.fz`));

  it("stores the others when the middle exposure is missing, exits 3 naming it, and a re-run processes only it", () => {
    rmSync(vos(), { recursive: true, force: true });
    mkdirSync(join(vos(), "cats"), { recursive: true });
    rmSync(log(), { force: true });
    place(IDS[0]);
    place(IDS[2]);
    const first = run(PIPELINE, IDS, env({ CATALOGUE_DEST: "vos:cats", CATALOGUE_PIPELINE: PIPELINE_ID }));
    expect(first.status, first.stderr).toBe(3);
    expect(first.stderr).toContain(`3 exposures: ${IDS[0]} stored, ${IDS[1]} failed download (exit 3), ${IDS[2]} stored`);
    expect(first.stderr).toContain(`failed: ${IDS[1]} download (exit 3)`);
    expect(filesUnder(join(vos(), "cats"))).toEqual([`${IDS[0]}.${PIPELINE_ID}.cat`, `${IDS[2]}.${PIPELINE_ID}.cat`]);
    expect(filesUnder(join(root, "scratch"))).toEqual([]);

    place(IDS[1]);
    rmSync(log());
    const again = run(PIPELINE, IDS, env({ CATALOGUE_DEST: "vos:cats", CATALOGUE_PIPELINE: PIPELINE_ID }));
    expect(again.status, again.stderr).toBe(0);
    expect(cadcgetCalls()).toEqual([IDS[1]]);
    expect(again.stderr).toContain(`${IDS[0]} already catalogued, ${IDS[1]} stored, ${IDS[2]} already catalogued`);
    expect(filesUnder(join(vos(), "cats"))).toEqual(IDS.map((id) => `${id}.${PIPELINE_ID}.cat`));
  });

  it("makes byte-identical catalogues one exposure per job and three per job (provenance aside)", () => {
    for (const id of IDS) place(id);
    const serial = tempDir("queue-serial");
    const overlapped = tempDir("queue-overlapped");
    try {
      for (const id of IDS) {
        const one = run(PIPELINE, [id], env({ CATALOGUE_DEST: serial }));
        expect(one.status, one.stderr).toBe(0);
      }
      const all = run(PIPELINE, IDS, env({ CATALOGUE_DEST: overlapped }));
      expect(all.status, all.stderr).toBe(0);
      expect(filesUnder(overlapped)).toEqual(IDS.map((id) => `${id}.cat`));
      for (const id of IDS) {
        const a = readFileSync(join(serial, `${id}.cat`), "utf8");
        expect(a).toMatch(/\n[^#]/);
        expect(withoutProvenance(readFileSync(join(overlapped, `${id}.cat`), "utf8"))).toBe(withoutProvenance(a));
      }
    } finally {
      rmSync(serial, { recursive: true, force: true });
      rmSync(overlapped, { recursive: true, force: true });
    }
  });

  it("names an exposure that fails to unpack with its class and still stores the next", () => {
    for (const id of IDS) place(id);
    // A truncated exposure: funpack's headers promise more than the file holds.
    const fz = join(archive(), `${IDS[0]}.fits.fz`);
    const bytes = readFileSync(fz);
    const dest = tempDir("queue-unpack");
    try {
      writeFileSync(fz, bytes.subarray(0, bytes.length - 5000));
      const r = run(PIPELINE, IDS.slice(0, 2), env({ CATALOGUE_DEST: dest }));
      expect(r.status, r.stderr).toBe(4);
      expect(r.stderr).toContain(`failed: ${IDS[0]} unpack (exit 4)`);
      expect(filesUnder(dest)).toEqual([`${IDS[1]}.cat`]);
    } finally {
      rmSync(dest, { recursive: true, force: true });
      place(IDS[0]);
    }
  });

  it("exits 143 on SIGTERM mid-job leaving no scratch, no part and no step running", async () => {
    for (const id of IDS) place(id);
    rmSync(vos(), { recursive: true, force: true });
    mkdirSync(join(vos(), "cats"), { recursive: true });
    // Slow transfers keep a download and an upload in flight when the signal comes.
    const child = spawn(PIPELINE, IDS, {
      env: { ...process.env, ...env({ CATALOGUE_DEST: "vos:cats", CADC_DOUBLE_LATENCY: "1" }) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let armed = false;
    const status = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes(`${IDS[1]}: downloading`) && !armed) {
          armed = true;
          setTimeout(() => child.kill("SIGTERM"), 300);
        }
      });
      child.on("close", (code) => resolve(code));
    });
    expect(status, stderr).toBe(143);
    expect(filesUnder(join(root, "scratch"))).toEqual([]);
    expect(filesUnder(join(vos(), "cats")).filter((f) => f.startsWith("."))).toEqual([]);
    // Give a straggler a moment, then look for anything still reading the archive.
    await new Promise((r) => setTimeout(r, 500));
    const ps = run("ps", ["-eo", "args"]).stdout.split("\n").filter((l) => l.includes(join(root, "scratch")));
    expect(ps).toEqual([]);
  });
});
