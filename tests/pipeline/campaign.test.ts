import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { doublesEnv, EXIT, filesUnder, provenance, readCatalogue, run, runPipeline, SMOKE_DIR, tempDir, TOOLS, DOUBLES } from "./support";

// The job's side of a campaign: the catalogue is stored as ID.P.cat (P the pipeline's
// identity, CATALOGUE_PIPELINE) headed by what made it, and a job whose pipeline already
// stored it does nothing, so a released or re-run job never does the work twice.
const why = missing({ commands: [...TOOLS, "openssl"] });
const ID = "1056213p";
const P = "3fa9c0d21b7e";
const OTHER = "0123456789ab";
const IMAGE = "image-reduction-2026-12-04-4f1c2a9b0e";

describe.skipIf(why)("do_catalogue.bash in a campaign (CATALOGUE_PIPELINE)", () => {
  let cadc: string;
  let vos: string;
  let local: string;
  let scratch: string;
  let logDir: string;
  let log: string;

  beforeEach(() => {
    cadc = tempDir("campaign-cadc");
    mkdirSync(join(cadc, "CFHT"));
    copyFileSync(join(SMOKE_DIR, `${ID}.fits.fz`), join(cadc, "CFHT", `${ID}.fits.fz`));
    vos = tempDir("campaign-vos");
    mkdirSync(join(vos, "me", "cats"), { recursive: true });
    local = tempDir("campaign-local");
    scratch = tempDir("campaign-scratch");
    logDir = tempDir("campaign-log");
    log = join(logDir, "calls.log");
    writeFileSync(log, "");
  });
  afterEach(() => {
    for (const d of [cadc, vos, local, scratch, logDir]) rmSync(d, { recursive: true, force: true });
  });

  const pipeline = (dest: string, extra: Record<string, string | undefined> = {}) =>
    runPipeline(ID, {
      ...doublesEnv(log, { CADC_DOUBLE_ROOT: cadc, VOS_DOUBLE_ROOT: vos }),
      CATALOGUE_SOURCE: "cadc:CFHT",
      CATALOGUE_DEST: dest,
      CATALOGUE_PIPELINE: P,
      CATALOGUE_IMAGE: IMAGE,
      _CONDOR_SCRATCH_DIR: scratch,
      ...extra,
    });
  const tools = (): string[] => readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" ")[0]);

  it("stores ID.P.cat headed by its provenance, leaving the catalogues of other pipelines and of a run by hand alone", () => {
    writeFileSync(join(local, `${ID}.cat`), "by hand\n");
    writeFileSync(join(local, `${ID}.${OTHER}.cat`), "older pipeline\n");
    const before = Date.now();
    const r = pipeline(local);
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(filesUnder(local)).toEqual([`${ID}.${OTHER}.cat`, `${ID}.${P}.cat`, `${ID}.cat`]);
    expect(readFileSync(join(local, `${ID}.cat`), "utf8")).toBe("by hand\n");
    expect(readFileSync(join(local, `${ID}.${OTHER}.cat`), "utf8")).toBe("older pipeline\n");
    const text = readFileSync(join(local, `${ID}.${P}.cat`), "utf8");
    const head = provenance(text);
    expect(Object.keys(head)).toEqual(["exposure", "pipeline", "image", "tools", "made"]);
    expect(head).toMatchObject({ exposure: ID, pipeline: P, image: IMAGE });
    expect(head.tools).toMatch(/^source-extractor [0-9][0-9.]*; funpack [0-9][0-9.]* \(CFITSIO [0-9.]+\)$/);
    expect(head.made).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const made = Date.parse(head.made);
    expect(made).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(made).toBeLessThanOrEqual(Date.now());
    // SExtractor's own header follows, and readers still find every column and row.
    expect(text.split("\n")[5]).toMatch(/^# {3}1 NUMBER/);
    const cat = readCatalogue(join(local, `${ID}.${P}.cat`));
    expect(cat.columns[0]).toBe("NUMBER");
    expect(cat.rows.length).toBeGreaterThan(20);
    expect(cat.rows.every((row) => row.length === cat.columns.length)).toBe(true);
  });

  it("a job whose pipeline already stored the catalogue exits 0 before downloading (local destination)", () => {
    writeFileSync(join(local, `${ID}.${P}.cat`), "done before\n");
    const r = pipeline(local);
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toContain(`already catalogued by pipeline ${P}; nothing to do`);
    expect(tools()).toEqual([]);
    expect(readFileSync(join(local, `${ID}.${P}.cat`), "utf8")).toBe("done before\n");
    expect(filesUnder(scratch)).toEqual([]);
  });

  it("vos: one vls of ID.P.cat first; there, nothing else is called", () => {
    writeFileSync(join(vos, "me", "cats", `${ID}.${P}.cat`), "done before\n");
    const r = pipeline("vos:me/cats");
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toContain(`vos:me/cats/${ID}.${P}.cat is there: already catalogued by pipeline ${P}`);
    expect(readFileSync(log, "utf8").trim()).toBe(`vls vos:me/cats/${ID}.${P}.cat`);
  });

  it("vos: absent (vls: NodeNotFound), it downloads and stores ID.P.cat; a catalogue of another pipeline is kept", () => {
    writeFileSync(join(vos, "me", "cats", `${ID}.${OTHER}.cat`), "older\n");
    const r = pipeline("vos:me/cats");
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(tools()).toEqual(["vls", "cadcget", "vcp", "vmv"]);
    expect(r.stderr).not.toContain("could not tell");
    expect(filesUnder(vos)).toEqual([`me/cats/${ID}.${OTHER}.cat`, `me/cats/${ID}.${P}.cat`]);
    expect(provenance(readFileSync(join(vos, "me", "cats", `${ID}.${P}.cat`), "utf8")).pipeline).toBe(P);
  });

  it("vos: a listing that fails is no proof either way: it says so and does the work", () => {
    const r = pipeline("vos:me/cats", { VLS_DOUBLE_MODE: "fail" });
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toContain(`could not tell whether vos:me/cats/${ID}.${P}.cat exists (vls exit 255`);
    expect(filesUnder(vos)).toEqual([`me/cats/${ID}.${P}.cat`]);
  });

  it("by hand (no CATALOGUE_PIPELINE): ID.cat, always made again, the header saying so", () => {
    const first = pipeline(local, { CATALOGUE_PIPELINE: undefined, CATALOGUE_IMAGE: undefined });
    expect(first.status, first.stderr).toBe(EXIT.ok);
    const second = pipeline(local, { CATALOGUE_PIPELINE: undefined, CATALOGUE_IMAGE: undefined });
    expect(second.status, second.stderr).toBe(EXIT.ok);
    expect(tools()).toEqual(["cadcget", "cadcget"]);
    expect(filesUnder(local)).toEqual([`${ID}.cat`]);
    expect(provenance(readFileSync(join(local, `${ID}.cat`), "utf8"))).toMatchObject({
      exposure: ID,
      pipeline: "none (run by hand)",
      image: "none (CATALOGUE_IMAGE not set)",
    });
  });

  it.each([
    ["CATALOGUE_PIPELINE", "3FA9C0D21B7E", "CATALOGUE_PIPELINE '3FA9C0D21B7E' must be a pipeline identity: 12 lowercase hex digits"],
    ["CATALOGUE_PIPELINE", "3fa9c0d21b7", "CATALOGUE_PIPELINE '3fa9c0d21b7' must be a pipeline identity"],
    ["CATALOGUE_IMAGE", "bad image", "CATALOGUE_IMAGE 'bad image' must be an image name"],
  ])("a bad %s (%s) is a settings error before anything is touched", (name, value, message) => {
    const r = pipeline("vos:me/cats", { [name]: value });
    expect(r.status).toBe(EXIT.usage);
    expect(r.stderr).toContain(message);
    expect(tools()).toEqual([]);
  });
});

describe("the vls and vmkdir doubles behave as the VOSpace client does", () => {
  let vos: string;
  let log: string;
  beforeEach(() => {
    vos = tempDir("vls-double");
    log = `${vos}.calls.log`;
    mkdirSync(join(vos, "me", "cats"), { recursive: true });
  });
  afterEach(() => {
    for (const p of [vos, log, `${log}.certs`]) rmSync(p, { recursive: true, force: true });
  });
  const env = (extra: Record<string, string> = {}) => doublesEnv(log, { VOS_DOUBLE_ROOT: join(vos), ...extra });
  const cmd = (tool: string, ...args: string[]) => run(join(DOUBLES, tool), args, env());

  it("vls lists a container's children by name, hidden ones too; a data node by its name; a missing node is NodeNotFound, exit 2", () => {
    for (const f of ["b.cat", "a.cat", ".a.cat.part-h-1"]) writeFileSync(join(vos, "me", "cats", f), "x\n");
    expect(cmd("vls", "vos:me/cats").stdout).toBe(".a.cat.part-h-1\na.cat\nb.cat\n");
    expect(cmd("vls", "vos:me/cats/a.cat").stdout).toBe("a.cat\n");
    const long = cmd("vls", "-l", "vos:me/cats");
    expect(long.stdout.trim().split("\n").map((l) => l.split(/\s+/).pop())).toEqual([".a.cat.part-h-1", "a.cat", "b.cat"]);
    const absent = cmd("vls", "vos:me/none");
    expect(absent.status).toBe(2);
    expect(absent.stderr).toContain("NodeNotFound: vos:me/none");
  });

  it("vmkdir -p makes what is missing and is content with what exists; without -p a missing parent fails", () => {
    expect(cmd("vmkdir", "-p", "vos:me/a/b/c").status).toBe(0);
    expect(cmd("vmkdir", "-p", "vos:me/a/b/c").status).toBe(0);
    expect(filesUnder(vos)).toEqual([]);
    expect(cmd("vls", "vos:me/a/b").stdout).toBe("c\n");
    const noParent = cmd("vmkdir", "vos:me/x/y");
    expect(noParent.status).toBe(2);
    expect(noParent.stderr).toContain("NodeNotFound: vos:me/x");
    expect(cmd("vmkdir", "vos:me/a").stderr).toContain("DuplicateNode: vos:me/a");
  });
});
