import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { renderSubmitFile } from "../../provisioning/submit-file";
import { execOk, type ExecResult } from "../support/exec";
import { missing } from "../support/requirements";
import { HtcondorPool, SCRATCH_LOG } from "./htcondor-pool";

const REPO = resolve(__dirname, "../..");
const USER = "astro";
const RUN_DIR = `/home/${USER}/run`;
const PRESENT = ["1056215p", "1056216p", "1056217p"];
const ABSENT = "1056218p";
const EXIT_DOWNLOAD = 3; // do_catalogue.bash: "download failed (ID.fits.fz missing or unreachable)"

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "fpack"], root: true });

describe.skipIf(why)("the catalogue jobs on a real HTCondor pool (Debian 13 htcondor, one host on 127.0.0.1)", () => {
  let pool: HtcondorPool;
  let submitted: ExecResult;
  let followed: ExecResult;
  let cluster = "";

  const asUser = (cmd: string, timeoutMs = 120_000) => pool.root.run(cmd, { user: USER, cwd: RUN_DIR, timeoutMs });

  beforeAll(async () => {
    pool = await HtcondorPool.start(USER);
    // Small synthetic exposures written straight into the pool's root.
    for (const [i, id] of PRESENT.entries()) {
      await execOk(
        ["npx", "tsx", "tools/sample-image.ts", "--id", id, "--out", pool.root.path("/srv/exposures"),
          "--ccds", "2", "--width", "512", "--height", "512", "--seed", String(i + 1)],
        { timeoutMs: 120_000 },
      ).catch((e: unknown) => {
        throw new Error(`sample-image failed in ${REPO}: ${(e as Error).message}`);
      });
    }
    const sub = renderSubmitFile({
      ids: [...PRESENT, ABSENT],
      flavor: "c2-7.5gb-30",
      // A test pool is smaller than a c2 worker; the flavor's own limits are checked elsewhere.
      requestCpus: 1,
      requestMemoryMb: 512,
      requestDiskKb: 1_000_000,
      environment: { CATALOGUE_SOURCE: "/srv/exposures", CATALOGUE_DEST: "/srv/catalogues", CATALOGUE_RETRIES: "1" },
    });
    const files: Record<string, string> = {
      "do_catalogue.sub": sub,
      "do_catalogue.bash": readFileSync(resolve(REPO, "provisioning/pipeline/do_catalogue.bash"), "utf8"),
      "submit.sh": readFileSync(resolve(REPO, "provisioning/batch/submit.sh"), "utf8"),
      "follow.sh": readFileSync(resolve(REPO, "provisioning/batch/follow.sh"), "utf8"),
    };
    // Delivered as the BatchSubmission component does: by stdin under umask 077, so even the
    // pipeline script arrives as mode 600 and HTCondor must still run it.
    for (const [name, content] of Object.entries(files)) {
      await pool.root.runOk(["sh", "-c", 'umask 077 && mkdir -p "$1" && cat > "$1/.$2.partial" && mv -f "$1/.$2.partial" "$1/$2"', "put", RUN_DIR, name], {
        user: USER,
        cwd: "/",
        stdin: content,
      });
    }
    submitted = await asUser(`bash submit.sh --run-dir ${RUN_DIR} --mode csv2 --image image-reduction-test`);
    if (submitted.code === 0) {
      cluster = (JSON.parse(submitted.stdout) as { cluster: string }).cluster;
      followed = await asUser(`bash follow.sh ${cluster} --interval 1 --timeout 300`, 360_000);
    }
  }, 900_000);

  afterAll(async () => {
    await pool?.stop();
  });

  it("submit.sh reads the cluster from the real condor_submit's output", () => {
    expect(submitted.stderr).not.toContain("error");
    expect(submitted.code).toBe(0);
    expect(JSON.parse(submitted.stdout)).toEqual({ cluster, jobs: 4, runDir: RUN_DIR });
    expect(cluster).toMatch(/^[0-9]+$/);
  });

  it("follow.sh follows the cluster to the end and fails because of the missing exposure", () => {
    expect(followed.stdout).toContain(`cluster ${cluster}: 0 idle, 0 running, 4 done, 0 held of 4`);
    expect(followed.code).toBe(1);
    const procOfAbsent = 3; // queue order: the IDs as listed in the submit file
    expect(followed.stderr).toContain(`job ${cluster}.${procOfAbsent} exited ${EXIT_DOWNLOAD}`);
    expect(followed.stderr.match(/exited/g)).toHaveLength(1);
  });

  it("stores a catalogue with sources for each present exposure", () => {
    for (const id of PRESENT) {
      const cat = readFileSync(pool.root.path(`/srv/catalogues/${id}.cat`), "utf8");
      const sources = cat.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
      expect(sources.length, `${id}.cat`).toBeGreaterThan(10);
    }
  });

  it("leaves no catalogue (nor a partial one) for the missing exposure, and says why in its .err", async () => {
    const listing = await pool.root.runOk(["ls", "-A", "/srv/catalogues"]);
    expect(listing.stdout.split("\n").filter((f) => f !== "").sort()).toEqual(PRESENT.map((id) => `${id}.cat`).sort());
    const err = readFileSync(pool.root.path(`${RUN_DIR}/do_catalogue-${ABSENT}.err`), "utf8");
    expect(err).toContain(`/srv/exposures/${ABSENT}.fits.fz is missing`);
  });

  it("ran every job in its own _CONDOR_SCRATCH_DIR under the execute directory, not /mnt/scratch", () => {
    const lines = readFileSync(pool.root.path(SCRATCH_LOG), "utf8").split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(4);
    const records = lines.map((l) => {
      const [scratch = "", cwd = "", args = ""] = l.split("|");
      return { scratch, cwd, args };
    });
    expect(records.map((r) => r.args.split(" ").pop()).sort()).toEqual([...PRESENT, ABSENT].sort());
    for (const r of records) {
      expect(r.scratch).toMatch(/^\/var\/lib\/condor\/execute\/dir_[0-9]+$/);
      expect(r.cwd).toBe(r.scratch);
    }
    expect(new Set(records.map((r) => r.scratch)).size).toBe(4);
    // The wrapper pointed TMPDIR at nothing, so the three catalogues prove the pipeline
    // worked in _CONDOR_SCRATCH_DIR; nothing went to /mnt/scratch or /tmp.
    expect(existsSync(pool.root.path("/mnt/scratch"))).toBe(false);
    expect(readdirSync(pool.root.path("/tmp")).filter((f) => f.startsWith("catalogue-"))).toEqual([]);
  });
});
