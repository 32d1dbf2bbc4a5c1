import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CADC_DOUBLES_DIR, DOUBLES_DIR } from "../../harness/doubles/doubles-dir";

// submit.sh --per-job K: the exposures still to do, K to a line of queue.txt (a job each),
// run locally against the condor_submit and VOSpace doubles.
const ROOT = resolve(__dirname, "..", "..");
const SUBMIT = join(ROOT, "provisioning", "batch-host", "submit.sh");
const P = "3fa9c0d21b7e";
const IDS = Array.from({ length: 7 }, (_, i) => `${2_100_000 + i}p`);

describe("submit.sh --per-job", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function submit(extra: string[]): { status: number | null; stderr: string; stdout: string; queue: string[] } {
    dir = mkdtempSync(join(tmpdir(), "submit-per-job-"));
    const cats = join(dir, "vospace", "me", "cats");
    const run = join(dir, "run");
    const state = join(dir, "state");
    for (const d of [cats, run, state]) mkdirSync(d, { recursive: true });
    // Two already catalogued by this pipeline: the rest are grouped.
    writeFileSync(join(cats, `${IDS[1]}.${P}.cat`), "");
    writeFileSync(join(cats, `${IDS[4]}.${P}.cat`), "");
    writeFileSync(join(run, "exposures.txt"), IDS.map((id) => `${id}\n`).join(""));
    writeFileSync(join(run, "do_catalogue.sub"), "executable = do_catalogue.bash\nqueue arguments from queue.txt\n");
    copyFileSync(join(ROOT, "provisioning", "worker", "do_catalogue.bash"), join(run, "do_catalogue.bash"));
    writeFileSync(join(state, "conf"), `CANFAR_DOUBLE_STATE='${state}'\n`);
    const r = spawnSync("bash", [SUBMIT, "--run-dir", run, "--mode", "self-hosted", "--image", "img", "--dest", "vos:me/cats", "--pipeline", P, ...extra], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${DOUBLES_DIR}:${CADC_DOUBLES_DIR}:${process.env.PATH ?? ""}`,
        CANFAR_DOUBLE_CONF: join(state, "conf"),
        VOS_DOUBLE_ROOT: join(dir, "vospace"),
        DOUBLES_LOG: join(state, "vos.log"),
      },
    });
    let queue: string[] = [];
    try {
      queue = readFileSync(join(run, "queue.txt"), "utf8").split("\n").filter((l) => l !== "");
    } catch {
      // No queue written: the test says what it expected.
    }
    return { status: r.status, stderr: r.stderr, stdout: r.stdout, queue };
  }

  it("puts K of the exposures still to do on each line, in order, and submits a job per line", () => {
    const r = submit(["--per-job", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.queue).toEqual([`${IDS[0]} ${IDS[2]}`, `${IDS[3]} ${IDS[5]}`, IDS[6]]);
    expect(r.stderr).toContain(`queued 5 of 7 (2 already catalogued by pipeline ${P}, 0 in flight)`);
    expect(r.stderr).toContain("in 3 job(s) of up to 2 exposures");
    expect(JSON.parse(r.stdout)).toMatchObject({ jobs: 3, total: 7, done: 2 });
  });

  it("keeps one exposure a line by default", () => {
    const r = submit([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.queue).toEqual([IDS[0], IDS[2], IDS[3], IDS[5], IDS[6]]);
    expect(r.stderr).not.toContain("job(s) of up to");
  });

  it.each([["0"], ["65"], ["two"]])("refuses --per-job %s naming the option, queueing nothing", (k) => {
    const r = submit(["--per-job", k]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--per-job '${k}': expected a whole number of exposures per job from 1 to 64`);
    expect(r.queue).toEqual([]);
  });
});
