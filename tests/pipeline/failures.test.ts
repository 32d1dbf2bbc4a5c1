import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hasCommand, isRoot, missing } from "../support/requirements";
import { doublesEnv, EXIT, filesUnder, PIPELINE_DIR, run, runPipeline, SMOKE_DIR, tempDir, TOOLS } from "./support";

// Failure injection: every failure exits with its documented code and leaves nothing at the
// destination and nothing in the scratch area.
const why = missing({ commands: [...TOOLS, ...(isRoot() ? ["chattr"] : [])] });
const GOOD = "1056213p";

describe.skipIf(why)("do_catalogue.bash failures", () => {
  let source: string;
  let dest: string;
  let scratch: string;
  let log: string;
  const cleanups: (() => void)[] = [];

  beforeAll(() => {
    source = tempDir("fail-src");
    copyFileSync(join(SMOKE_DIR, `${GOOD}.fits.fz`), join(source, `${GOOD}.fits.fz`));
    const fz = readFileSync(join(source, `${GOOD}.fits.fz`));
    // Headers intact, compressed pixels cut short: the headers describe more bytes than the file has.
    writeFileSync(join(source, "1000001p.fits.fz"), fz.subarray(0, Math.floor(fz.length * 0.6)));
    writeFileSync(join(source, "1000002p.fits.fz"), Buffer.from("this is not a FITS file\n".repeat(200)));
    writeFileSync(join(source, "1000003p.fits.fz"), "");
  });
  afterAll(() => rmSync(source, { recursive: true, force: true }));

  function fresh(): void {
    dest = tempDir("fail-dest");
    scratch = tempDir("fail-scratch");
    log = join(tempDir("fail-log"), "calls.log");
    writeFileSync(log, "");
    cleanups.push(() => {
      for (const d of [dest, scratch, join(log, "..")]) rmSync(d, { recursive: true, force: true });
    });
  }
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });

  function expectNothingLeft(): void {
    expect(filesUnder(dest)).toEqual([]);
    expect(filesUnder(scratch)).toEqual([]);
  }

  it.each([
    ["1056213p;rm -rf", "shell metacharacters"],
    ["../x", "a path"],
    ["", "empty"],
    ["1056213P", "upper-case type letter"],
    ["12345p", "too few digits"],
    ["1056213pp", "two letters"],
    ["1056213p\n", "trailing newline"],
  ])("refuses ID %j (%s) with the bad-arguments code", (id) => {
    fresh();
    const r = runPipeline(id, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    expect(r.status).toBe(EXIT.usage);
    expect(r.stderr).toContain("is not a CFHT file id");
    expectNothingLeft();
  });

  it.each([
    [{ CATALOGUE_DEST: undefined }, "CATALOGUE_DEST is not set"],
    [{ CATALOGUE_DEST: "/nonexistent/dir" }, "neither vos:CONTAINER nor an existing directory"],
    [{ CATALOGUE_DEST: "vos:a/../b" }, "must be vos:CONTAINER"],
    [{ CATALOGUE_SOURCE: "/nonexistent/dir" }, "neither cadc:ARCHIVE nor an existing directory"],
    [{ CATALOGUE_SOURCE: "cadc:CFHT;ls" }, "must be cadc:ARCHIVE"],
    [{ CATALOGUE_JOBS: "0" }, "CATALOGUE_JOBS '0' must be a whole number >= 1"],
    [{ CATALOGUE_UPLOAD_TIMEOUT: "1m" }, "CATALOGUE_UPLOAD_TIMEOUT '1m' must be a whole number >= 1"],
  ])("refuses settings %j with the bad-arguments code", (env, message) => {
    fresh();
    const r = runPipeline(GOOD, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch, ...env });
    expect(r.status).toBe(EXIT.usage);
    expect(r.stderr).toContain(message);
    expectNothingLeft();
  });

  it("refuses two arguments with the bad-arguments code", () => {
    fresh();
    const r = run(join(PIPELINE_DIR, "do_catalogue.bash"), [GOOD, "extra"], { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest });
    expect(r.status).toBe(EXIT.usage);
  });

  it("a missing client (vcp for a vos: destination) gives the internal code before any work", () => {
    fresh();
    if (hasCommand("vcp")) return; // A real vcp is installed here: nothing to take away.
    const r = runPipeline(GOOD, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: "vos:somewhere", TMPDIR: scratch });
    expect(r.status).toBe(EXIT.internal);
    expect(r.stderr).toContain("'vcp' is not on PATH");
    expectNothingLeft();
  });

  it("a script without its configuration gives the internal code", () => {
    fresh();
    const lone = tempDir("fail-lone");
    cleanups.push(() => rmSync(lone, { recursive: true, force: true }));
    copyFileSync(join(PIPELINE_DIR, "do_catalogue.bash"), join(lone, "do_catalogue.bash"));
    chmodSync(join(lone, "do_catalogue.bash"), 0o755);
    const r = run(join(lone, "do_catalogue.bash"), [GOOD], { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    if (existsSync("/usr/local/share/canfar-batch/pipeline/catalogue.sex")) {
      expect(r.status).toBe(EXIT.ok); // Installed on this host: it falls back to the installed copy.
    } else {
      expect(r.status).toBe(EXIT.internal);
      expect(r.stderr).toContain("install the pipeline first");
      expectNothingLeft();
    }
  });

  it("a missing local file gives the download code", () => {
    fresh();
    const r = runPipeline("1999999p", { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    expect(r.status).toBe(EXIT.download);
    expect(r.stderr).toContain("1999999p.fits.fz is missing");
    expectNothingLeft();
  });

  it("an empty file gives the download code", () => {
    fresh();
    expect(runPipeline("1000003p", { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch }).status).toBe(EXIT.download);
    expectNothingLeft();
  });

  it("a file CADC does not have gives the download code after the bounded retries", () => {
    fresh();
    const cadc = tempDir("fail-cadc");
    cleanups.push(() => rmSync(cadc, { recursive: true, force: true }));
    const r = runPipeline(GOOD, {
      ...doublesEnv(log, { CADC_DOUBLE_ROOT: cadc }),
      CATALOGUE_SOURCE: "cadc:CFHT",
      CATALOGUE_DEST: dest,
      CATALOGUE_RETRIES: "3",
      _CONDOR_SCRATCH_DIR: scratch,
    });
    expect(r.status).toBe(EXIT.download);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatch(new RegExp(`^cadcget -o ${scratch}/catalogue-${GOOD}\\.[A-Za-z0-9]+/${GOOD}\\.fits\\.fz cadc:CFHT/${GOOD}\\.fits\\.fz$`));
    expect(r.stderr).toContain("attempt 3/3");
    expectNothingLeft();
  });

  it("a hanging download is cut by CATALOGUE_DOWNLOAD_TIMEOUT and gives the download code", () => {
    fresh();
    const r = runPipeline(GOOD, {
      ...doublesEnv(log, { CADCGET_DOUBLE_MODE: "hang", CADC_DOUBLE_ROOT: "/nonexistent" }),
      CATALOGUE_SOURCE: "cadc:CFHT",
      CATALOGUE_DEST: dest,
      CATALOGUE_RETRIES: "2",
      CATALOGUE_DOWNLOAD_TIMEOUT: "1",
      TMPDIR: scratch,
    });
    expect(r.status).toBe(EXIT.download);
    expect(r.stderr).toContain("timed out after 1 s (attempt 2/2)");
    expectNothingLeft();
  });

  it.each([
    ["1000001p", "truncated compressed data"],
    ["1000002p", "not FITS at all"],
  ])("%s (%s) gives the decompression code", (id) => {
    fresh();
    const r = runPipeline(id, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    expect(r.status, r.stderr).toBe(EXIT.unpack);
    expectNothingLeft();
  });

  it("a source-extractor error gives the extraction code", () => {
    fresh();
    // The real source-extractor, refusing a filter file it cannot read.
    const broken = tempDir("fail-broken");
    cleanups.push(() => rmSync(broken, { recursive: true, force: true }));
    cpSync(PIPELINE_DIR, broken, { recursive: true });
    writeFileSync(join(broken, "default.conv"), "not a filter\n");
    const r = run(join(broken, "do_catalogue.bash"), [GOOD], { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    expect(r.status, r.stderr).toBe(EXIT.extract);
    expect(r.stderr).toContain("source-extractor on extensions");
    expectNothingLeft();
  });

  it("an unwritable local destination gives the upload code and leaves nothing", () => {
    fresh();
    // Root ignores permission bits; the immutable attribute stops it too.
    if (isRoot()) execFileSync("chattr", ["+i", dest]);
    else execFileSync("chmod", ["555", dest]);
    try {
      const r = runPipeline(GOOD, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch, CATALOGUE_RETRIES: "2" });
      expect(r.status).toBe(EXIT.upload);
      expect(r.stderr).toContain("attempt 2/2");
    } finally {
      if (isRoot()) execFileSync("chattr", ["-i", dest]);
      else execFileSync("chmod", ["755", dest]);
    }
    expectNothingLeft();
  });

  it("a failed run leaves nothing a re-run trips over: the re-run succeeds", () => {
    fresh();
    expect(runPipeline("1000001p", { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch }).status).toBe(EXIT.unpack);
    const r = runPipeline(GOOD, { CATALOGUE_SOURCE: source, CATALOGUE_DEST: dest, TMPDIR: scratch });
    expect(r.status).toBe(EXIT.ok);
    expect(filesUnder(dest)).toEqual([`${GOOD}.cat`]);
    expect(filesUnder(scratch)).toEqual([]);
  });
});
