import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { OBSERVATION_ID_SOURCE } from "../../domain/observation-id";
import { PIPELINE_EXIT_CODES } from "../../domain/pipeline-exit-codes";
import { DOUBLES, PIPELINE, REPO, run, SMOKE_DIR } from "./support";

const SCRIPTS = [
  PIPELINE,
  join(REPO, "provisioning", "build-vm", "install-pipeline.sh"),
  join(REPO, "provisioning", "build-vm", "smoke-test.sh"),
  ...["cadcget", "vcp", "vmv", "vrm"].map((d) => join(DOUBLES, d)),
];

describe("pipeline commands' --help", () => {
  it("do_catalogue.bash --help lists every setting and exit code, exits 0 and touches nothing", () => {
    const r = run(PIPELINE, ["--help"], { CATALOGUE_DEST: undefined });
    expect(r.status).toBe(0);
    for (const text of ["usage: do_catalogue.bash ID", "CATALOGUE_DEST", "CATALOGUE_SOURCE", "CATALOGUE_JOBS", "CATALOGUE_DOWNLOAD_TIMEOUT",
      "CATALOGUE_UPLOAD_TIMEOUT", "CATALOGUE_RETRIES", "CATALOGUE_RETRY_DELAY", "CATALOGUE_PIPELINE", "CATALOGUE_IMAGE", "_CONDOR_SCRATCH_DIR"]) {
      expect(r.stderr).toContain(text);
    }
    const codes = [...r.stderr.matchAll(/^ {2}([0-9]) {2}(.+)$/gm)].map((m): [number, string] => [Number(m[1]), m[2] ?? ""]);
    expect(codes.map((c) => c[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The submit file's hold reasons say the same words (PIPELINE_EXIT_CODES).
    expect(new Map(codes.slice(1))).toEqual(PIPELINE_EXIT_CODES);
  });

  it("runs as many CCD extractions at once as HTCondor gave the job CPUs (OMP_NUM_THREADS)", () => {
    const scratch = mkdtempSync(join(tmpdir(), "cli-jobs-"));
    try {
      const env = { CATALOGUE_SOURCE: SMOKE_DIR, CATALOGUE_DEST: scratch, CATALOGUE_JOBS: undefined, _CONDOR_SCRATCH_DIR: scratch };
      const given = run(PIPELINE, ["1056213p"], { ...env, OMP_NUM_THREADS: "1" });
      expect(given.status, given.stderr).toBe(0);
      expect(given.stderr).toContain("2 CCDs in 1 chunks, 1 at a time");
      rmSync(join(scratch, "1056213p.cat"));
      const all = run(PIPELINE, ["1056213p"], { ...env, OMP_NUM_THREADS: undefined });
      expect(all.status, all.stderr).toBe(0);
      expect(all.stderr).toContain(`, ${availableParallelism()} at a time`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("do_catalogue.bash without arguments prints usage and exits 2", () => {
    const r = run(PIPELINE, []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage:");
    expect(r.stderr).toContain("expected one argument ID or more, got 0");
  });

  it.each(["install-pipeline.sh", "smoke-test.sh"])("%s --help prints usage with exit codes", (script) => {
    const r = run(join(REPO, "provisioning", "build-vm", script), ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`usage: ${script}`);
    expect(r.stderr).toContain("Exit codes:");
  });

  it.each([
    ["sample-image.ts", "usage: npm run sample-image"],
    ["bench/pipeline.ts", "usage: npm run bench:pipeline"],
    ["bench/batch.ts", "usage: npm run bench:batch"],
  ])("tools/%s --help prints usage", (tool, text) => {
    const r = run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "tools", tool), "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(text);
  });

  it("sample-image refuses a bad --id before writing anything", () => {
    const r = run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "tools", "sample-image.ts"), "--id", "../x", "--out", "/nonexistent"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--id must look like 1056213p");
  });
});

describe("pipeline ID rule", () => {
  it("do_catalogue.bash accepts the same IDs as the config and submit file", () => {
    const m = /^readonly ID_PATTERN='(.+)'$/m.exec(readFileSync(PIPELINE, "utf8"));
    expect(m?.[1]).toBe(OBSERVATION_ID_SOURCE);
  });
});

const noShellcheck = missing({ commands: ["shellcheck"] });
describe.skipIf(noShellcheck)("pipeline scripts are shellcheck clean", () => {
  it.each(SCRIPTS)("%s", (script) => {
    const r = run("shellcheck", ["-x", script]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
