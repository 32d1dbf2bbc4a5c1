import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { OBSERVATION_ID_SOURCE } from "../../provisioning/observation-id";
import { DOUBLES, PIPELINE, REPO, run } from "./support";

const SCRIPTS = [
  PIPELINE,
  join(REPO, "provisioning", "install-pipeline.sh"),
  join(REPO, "provisioning", "smoke-test.sh"),
  ...["cadcget", "vcp", "vmv", "vrm"].map((d) => join(DOUBLES, d)),
];

describe("pipeline commands' --help", () => {
  it("do_catalogue.bash --help lists every setting and exit code, exits 0 and touches nothing", () => {
    const r = run(PIPELINE, ["--help"], { CATALOGUE_DEST: undefined });
    expect(r.status).toBe(0);
    for (const text of ["usage: do_catalogue.bash ID", "CATALOGUE_DEST", "CATALOGUE_SOURCE", "CATALOGUE_JOBS", "CATALOGUE_DOWNLOAD_TIMEOUT",
      "CATALOGUE_UPLOAD_TIMEOUT", "CATALOGUE_RETRIES", "CATALOGUE_RETRY_DELAY", "_CONDOR_SCRATCH_DIR"]) {
      expect(r.stderr).toContain(text);
    }
    const codes = [...r.stderr.matchAll(/^ {2}([0-9]) {2}(.+)$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(codes.map((c) => c[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(codes[3][1]).toMatch(/^download/);
    expect(codes[4][1]).toMatch(/^decompression/);
    expect(codes[5][1]).toMatch(/^source extraction/);
    expect(codes[6][1]).toMatch(/^upload/);
  });

  it("do_catalogue.bash without arguments prints usage and exits 2", () => {
    const r = run(PIPELINE, []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage:");
    expect(r.stderr).toContain("expected exactly one argument ID, got 0");
  });

  it.each(["install-pipeline.sh", "smoke-test.sh"])("%s --help prints usage with exit codes", (script) => {
    const r = run(join(REPO, "provisioning", script), ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`usage: ${script}`);
    expect(r.stderr).toContain("Exit codes:");
  });

  it.each([
    ["sample-image.ts", "usage: npm run sample-image"],
    ["bench-pipeline.ts", "usage: npm run bench:pipeline"],
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
