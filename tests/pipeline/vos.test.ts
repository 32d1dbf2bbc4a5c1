import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { doublesEnv, EXIT, filesUnder, runPipeline, SMOKE_DIR, tempDir, TOOLS } from "./support";

// The CADC paths, through doubles of cadcget, vcp, vmv and vrm that record their arguments
// and behave like the real clients (cadcget exits 255 on errors; vcp can fail half-way or
// hang; VOSpace refuses to move onto an existing node).
const why = missing({ commands: [...TOOLS, "openssl"] });
const ID = "1056213p";

describe.skipIf(why)("do_catalogue.bash with cadc: source and vos: destination", () => {
  let cadc: string;
  let vos: string;
  let scratch: string;
  let logDir: string;
  let log: string;

  beforeEach(() => {
    cadc = tempDir("vos-cadc");
    mkdirSync(join(cadc, "CFHT"));
    copyFileSync(join(SMOKE_DIR, `${ID}.fits.fz`), join(cadc, "CFHT", `${ID}.fits.fz`));
    vos = tempDir("vos-root");
    mkdirSync(join(vos, "myproject", "cats"), { recursive: true });
    scratch = tempDir("vos-scratch");
    logDir = tempDir("vos-log");
    log = join(logDir, "calls.log");
    writeFileSync(log, "");
  });
  afterEach(() => {
    for (const d of [cadc, vos, scratch, logDir]) rmSync(d, { recursive: true, force: true });
  });

  function pipeline(extra: Record<string, string> = {}) {
    return runPipeline(ID, {
      ...doublesEnv(log, { CADC_DOUBLE_ROOT: cadc, VOS_DOUBLE_ROOT: vos, ...extra }),
      CATALOGUE_SOURCE: "cadc:CFHT",
      CATALOGUE_DEST: "vos:myproject/cats",
      _CONDOR_SCRATCH_DIR: scratch,
    });
  }
  const calls = (): string[] => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);
  const part = new RegExp(`^vos:myproject/cats/\\.${ID}\\.cat\\.part-[^/ ]+-[0-9]+$`);

  it("downloads with cadcget, uploads under a hidden part name, then moves it into place", () => {
    const r = pipeline();
    expect(r.status, r.stderr).toBe(EXIT.ok);
    const c = calls().map((l) => l.split(" "));
    expect(c.map((a) => a[0])).toEqual(["cadcget", "vcp", "vmv"]);
    expect(c[0][1]).toBe("-o");
    expect(c[0][3]).toBe(`cadc:CFHT/${ID}.fits.fz`);
    expect(c[1][2]).toMatch(part);
    expect(c[2][1]).toBe(c[1][2]);
    expect(c[2][2]).toBe(`vos:myproject/cats/${ID}.cat`);
    expect(filesUnder(vos)).toEqual([`myproject/cats/${ID}.cat`]);
    expect(readFileSync(join(vos, "myproject", "cats", `${ID}.cat`), "utf8")).toMatch(/^(# canfar-batch .*\n){5}# {3}1 NUMBER/);
    expect(filesUnder(scratch)).toEqual([]);
  });

  it("a re-run replaces the catalogue of an earlier run", () => {
    writeFileSync(join(vos, "myproject", "cats", `${ID}.cat`), "old\n");
    const r = pipeline();
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(calls().map((l) => l.split(" ")[0])).toEqual(["cadcget", "vcp", "vmv", "vrm", "vmv"]);
    expect(filesUnder(vos)).toEqual([`myproject/cats/${ID}.cat`]);
    expect(readFileSync(join(vos, "myproject", "cats", `${ID}.cat`), "utf8")).toMatch(/^(# canfar-batch .*\n){5}# {3}1 NUMBER/);
  });

  it("retries a failing download and succeeds", () => {
    const r = pipeline({ CADCGET_DOUBLE_MODE: "flaky", CADCGET_DOUBLE_FAILURES: "2" });
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(calls().filter((l) => l.startsWith("cadcget"))).toHaveLength(3);
    expect(r.stderr).toContain("'cadcget' failed with exit 255 (attempt 2/3)");
  });

  it.each([
    ["fail", "failed with exit 1 (attempt 3/3)"],
    ["hang", "timed out after 1 s (attempt 3/3)"],
  ])("an upload that vcp %ss gives the upload code and leaves nothing in VOSpace", (mode, message) => {
    const r = pipeline({ VCP_DOUBLE_MODE: mode, CATALOGUE_UPLOAD_TIMEOUT: "1" });
    expect(r.status).toBe(EXIT.upload);
    expect(r.stderr).toContain(message);
    expect(calls().filter((l) => l.startsWith("vcp"))).toHaveLength(3);
    // Each retry and the final cleanup remove the half-written part.
    expect(calls().filter((l) => l.startsWith("vrm")).length).toBeGreaterThanOrEqual(3);
    expect(filesUnder(vos)).toEqual([]);
    expect(filesUnder(scratch)).toEqual([]);
  });

  it("a move that fails gives the upload code, removes the part and keeps the old catalogue's absence", () => {
    const r = pipeline({ VMV_DOUBLE_MODE: "fail" });
    expect(r.status).toBe(EXIT.upload);
    expect(calls().at(-1)).toMatch(/^vrm vos:myproject\/cats\/\.1056213p\.cat\.part-/);
    expect(filesUnder(vos)).toEqual([]);
  });

  describe("the job's certificate (X509_USER_PROXY, set by HTCondor's x509userproxy)", () => {
    /** A self-signed certificate and key in one PEM file, as cadc-get-cert writes. */
    const makeCert = (dir: string): string => {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=job", "-days", "1", "-keyout", join(dir, "k"), "-out", join(dir, "c")], { stdio: "ignore" });
      const pem = join(dir, "cadcproxy.pem");
      writeFileSync(pem, readFileSync(join(dir, "c"), "utf8") + readFileSync(join(dir, "k"), "utf8"));
      return pem;
    };
    const certsUsed = (): string[] => (existsSync(`${log}.certs`) ? readFileSync(`${log}.certs`, "utf8").trim().split("\n") : []);

    it("hands it to cadcget, vcp and vmv, so a home without ~/.ssl still downloads and uploads", () => {
      const pem = makeCert(logDir);
      const sha = createHash("sha256").update(readFileSync(pem)).digest("hex");
      const r = pipeline({ X509_USER_PROXY: pem, CADC_DOUBLE_REQUIRE_CERT: "1", HOME: scratch });
      expect(r.status, r.stderr).toBe(EXIT.ok);
      const c = calls().map((l) => l.split(" "));
      expect(c.map((a) => a.slice(0, 3))).toEqual([
        ["cadcget", "--cert", pem],
        ["vcp", "--certfile", pem],
        ["vmv", "--certfile", pem],
      ]);
      expect(certsUsed()).toEqual([`cadcget ${sha}`, `vcp ${sha}`, `vmv ${sha}`]);
      expect(filesUnder(vos)).toEqual([`myproject/cats/${ID}.cat`]);
    });

    it("without it, and no certificate in the home, the services refuse: the download code, nothing stored", () => {
      const r = pipeline({ CADC_DOUBLE_REQUIRE_CERT: "1", HOME: scratch, CATALOGUE_RETRIES: "1" });
      expect(r.status).toBe(EXIT.download);
      expect(r.stderr).toContain("401 Unauthorized");
      expect(certsUsed()).toEqual(["cadcget none"]);
      expect(filesUnder(vos)).toEqual([]);
    });

    it.each([
      ["missing", (dir: string) => join(dir, "absent.pem"), "is not a readable file"],
      ["not a certificate", (dir: string) => (writeFileSync(join(dir, "bad.pem"), "not a pem\n"), join(dir, "bad.pem")), "has expired or is not a certificate"],
    ])("a %s X509_USER_PROXY is a settings error before any download", (_what, make, message) => {
      const r = pipeline({ X509_USER_PROXY: make(logDir) });
      expect(r.status).toBe(EXIT.usage);
      expect(r.stderr).toContain(message);
      expect(calls()).toEqual([]);
    });
  });

  it("a missing VOSpace container gives the upload code", () => {
    const r = runPipeline(ID, {
      ...doublesEnv(log, { CADC_DOUBLE_ROOT: cadc, VOS_DOUBLE_ROOT: vos }),
      CATALOGUE_SOURCE: "cadc:CFHT",
      CATALOGUE_DEST: "vos:myproject/nothere",
      CATALOGUE_RETRIES: "1",
      _CONDOR_SCRATCH_DIR: scratch,
    });
    expect(r.status).toBe(EXIT.upload);
    expect(filesUnder(vos)).toEqual([]);
  });
});
