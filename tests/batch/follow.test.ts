import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { DOUBLES_DIR } from "../../harness/doubles/doubles-dir";

const FOLLOW = resolve(__dirname, "../../provisioning/batch-host/follow.sh");

describe("follow.sh against condor_q/condor_history doubles", () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), "follow-test-"));
    writeFileSync(join(state, "conf"), `CANFAR_DOUBLE_STATE='${state}'\n`);
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  /** Writes the k-th poll's queue and history (lines "ProcId JobStatus [ExitCode]"). */
  const poll = (k: number, queue: string[], history: string[]) => {
    writeFileSync(join(state, `queue.${k}`), queue.map((l) => `${l}\n`).join(""));
    writeFileSync(join(state, `history.${k}`), history.map((l) => `${l}\n`).join(""));
  };
  const follow = (...args: string[]) =>
    execCommand([FOLLOW, ...args], {
      env: { PATH: `${DOUBLES_DIR}:/usr/bin:/bin`, CANFAR_DOUBLE_CONF: join(state, "conf") },
      timeoutMs: 60_000,
    });

  it("prints progress until the queue is empty and succeeds when every job exited 0", async () => {
    poll(1, ["0 1", "1 1", "2 1", "3 1"], []);
    poll(2, ["0 2", "1 2", "2 1"], ["3 4 0"]);
    poll(3, [], ["0 4 0", "1 4 0", "2 4 0", "3 4 0"]);
    const r = await follow("1234", "--interval", "1");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l !== "")).toEqual([
      "cluster 1234: 4 idle, 0 running, 0 done, 0 held of 4",
      "cluster 1234: 1 idle, 2 running, 1 done, 0 held of 4",
      "cluster 1234: 0 idle, 0 running, 4 done, 0 held of 4",
      "cluster 1234: all 4 job(s) done, exit code 0",
    ]);
  });

  it("fails naming the jobs that exited non-zero", async () => {
    poll(1, ["0 2", "1 2"], []);
    poll(2, [], ["0 4 0", "1 4 3"]);
    const r = await follow("77", "--interval", "1");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("job 77.1 exited 3");
    expect(r.stderr).not.toContain("job 77.0");
  });

  it("stops with the hold reasons once only held jobs remain", async () => {
    poll(1, ["0 5", "1 2"], []);
    poll(2, ["0 5"], ["1 4 0"]);
    writeFileSync(join(state, "held"), "0 1056215p Error from slot1@worker: Job has gone over memory limit of 6400 megabytes.\n");
    const r = await follow("88", "--interval", "1");
    expect(r.code).toBe(4);
    expect(r.stdout).toContain("cluster 88: 0 idle, 0 running, 1 done, 1 held of 2");
    expect(r.stderr).toContain("  88.0 1056215p: Error from slot1@worker: Job has gone over memory limit");
    expect(r.stderr).toContain("run just these jobs again with:\n  condor_release 88\n");
  });

  it("says so when the cluster is unknown", async () => {
    poll(1, [], []);
    const r = await follow("99", "--interval", "1");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cluster 99: no job in the queue or the history");
  });

  it("ends at --timeout while jobs are still queued", async () => {
    poll(1, ["0 1"], []);
    const r = await follow("5", "--interval", "1", "--timeout", "2");
    expect(r.code).toBe(8);
    expect(r.stderr).toContain("cluster 5 still has jobs after 2 s");
  });

  it("documents itself with --help", async () => {
    const r = await follow("--help");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: follow.sh CLUSTER [--interval SECONDS] [--timeout SECONDS]");
  });

  it("a submission that queued nothing (cluster null) has nothing to follow: it says so and succeeds without asking HTCondor", async () => {
    const r = await follow("null");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("this submission queued nothing: every exposure was already catalogued");
    expect(existsSync(join(state, "calls.log"))).toBe(false);
  });

  it("rejects a cluster that is not a number", async () => {
    const r = await follow("12a");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("CLUSTER '12a': expected a cluster number");
  });
});
