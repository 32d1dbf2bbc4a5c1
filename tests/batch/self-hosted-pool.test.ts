import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname as machineHostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseSubmitOutput } from "../../batch/batch-submission";
import { renderSubmitFile } from "../../domain/submit-file";
import { ensureSampleExposure, type CachedExposure } from "../../tools/fits/sample-cache";
import { readStackConfig, type StackConfig } from "../../offline/stack-file";
import { followRemoteCommand } from "../../harness/declared-batch";
import { assertPlain, keptStdout, type DeclaredCommand } from "../../harness/declared-command";
import { readCatalogue } from "../pipeline/support";
import { cadcGetCertDouble } from "../../harness/cadc-get-cert-double";
import { generatedHostKey } from "../system/build-vm";
import { execCommand, type ExecResult } from "../../harness/exec";
import { missing } from "../support/requirements";
import { writeRootFile } from "../../harness/root-files";
import { makeSshKey, type SshKey } from "../../harness/ssh-key";
import { sshRun, type SshdHandle } from "../../harness/sshd";
import { declaredPool, makeSharedDir, nodeBase, PoolNode, removeSharedDir, waitFor, type DeclaredPool, type NodeSpec } from "../../harness/self-hosted-pool";

// Issue 14, point 5: a self-hosted pool of three Debian 13 roots (submit node, two workers),
// each configured by exactly the user-data the program declares for its server (the offline
// evaluation of a self-hosted stack), run through cloud-init's real stages; real HTCondor
// 23.9 between them on 127.0.10.0/24; the program's batch commands over real SSH.
const USER = "astronomer";
// Made up for the test; never printed (assertion messages name nodes, not secrets).
const POOL_PASSWORD = "test-pool-secret-0f3a9c7e51b24d68";
const IMPOSTOR_PASSWORD = "another-pool-secret-7d1e2b9a";
const CADC_PASSWORD = "test-cadc-pass_word!";
const SIX = ["3000001p", "3000002p", "3000003p", "3000004p", "3000005p", "3000006p"];
const KILLED = "3000007p";
const DRAINED = "3000008p";
const DRAIN_SCRIPT = resolve(__dirname, "../../provisioning/batch-host/drain-worker.sh");
const COMPLETED = 4; // JobStatus

/**
 * The example self-hosted stack as `pulumi up` would see it, with this test's key pair and
 * secrets, the six exposures and Debian: the roots are Debian 13 (the one Debian with HTCondor
 * in main); the example's Ubuntu image name is only a name offline, so the distro is declared
 * against it. `workers` 3 gives the impostor a third worker's user-data.
 */
function selfHostedStack(key: SshKey, poolPassword: string, workers: number): StackConfig {
  const stack = readStackConfig(resolve(__dirname, "../../Pulumi.self-hosted.yaml"));
  const config: Record<string, string> = {
    ...stack.config,
    "canfar:sshPublicKey": key.publicKey,
    "canfar:sshPrivateKey": key.privateKey,
    "canfar:cadcUser": USER,
    "canfar:cadcPassword": CADC_PASSWORD,
    "canfar:vospace": `vos:${USER}/catalogues`,
    "canfar:observationIds": JSON.stringify(SIX),
    // One exposure a job, so six jobs spread over both workers (several a job: pool-per-job.test.ts).
    "canfar:exposuresPerJob": "1",
    "canfar:poolPassword": poolPassword,
    "canfar:workerCount": String(workers),
    "canfar:distro": "debian",
    "canfar:defaultUser": "debian",
    "canfar:allowDistroMismatch": "true",
  };
  return { config, secretKeys: stack.secretKeys };
}

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "fpack"], root: true });

describe("drain-worker.sh's arguments", () => {
  const run = (...args: string[]) => execCommand(["bash", DRAIN_SCRIPT, ...args]);
  it("prints its usage with --help and exits 0", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: drain-worker.sh --worker HOSTNAME [--timeout SECONDS] [--poll SECONDS]");
    expect(r.stderr).toContain("8 timeout with jobs still running");
  });
  it.each([
    [["--worker", "bad name"], "--worker 'bad name': expected a host name"],
    [["--worker", 'w"x'], "--worker 'w\"x': expected a host name"],
    [[], "--worker '': expected a host name"],
    [["--worker", "w1", "--timeout", "0"], "--timeout '0': expected a positive number of seconds"],
    [["--worker", "w1", "--poll", "x"], "--poll 'x': expected a positive number of seconds"],
    [["--worker"], "--worker needs a value"],
    [["--frobnicate"], "unknown argument '--frobnicate'"],
  ])("refuses %j with exit 2, naming the argument", async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe.skipIf(why)("a self-hosted HTCondor pool of three Debian 13 roots, configured by the user-data the program declares", () => {
  const machineName = machineHostname();
  const t0 = Date.now();
  const phase = (what: string) => console.log(`self-hosted pool: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  let shared = "";
  let program: DeclaredPool;
  let impostorSpec: NodeSpec;
  let key: SshKey;
  let sshd: SshdHandle;
  let submit: PoolNode | undefined;
  const workers: PoolNode[] = [];
  let impostor: PoolNode | undefined;
  const samples = new Map<string, CachedExposure>();
  let runNo = 0;

  const node = (): PoolNode => {
    if (submit === undefined) throw new Error("the submit node did not start");
    return submit;
  };
  const sh = (cmd: string) => node().runOk(cmd, { timeoutMs: 30_000 });
  const starts = (): string[][] => (existsSync(join(shared, "log/starts.log")) ? readFileSync(join(shared, "log/starts.log"), "utf8").trim().split("\n").map((l) => l.split(" ")) : []);
  const startsOf = (id: string) => starts().filter(([, i]) => i === id).map(([host]) => host);
  const cadcCalls = (tool: string, id: string) =>
    (existsSync(join(shared, "log/cadc.log")) ? readFileSync(join(shared, "log/cadc.log"), "utf8").split("\n") : []).filter((l) => l.startsWith(`${tool} `) && l.includes(`${id}.cat`)).length;
  const catalogues = () => readdirSync(join(shared, `vospace/${USER}/catalogues`)).sort();

  /** Submits one cluster with the real condor_submit as the login, from the rendered submit file. */
  async function submitRun(ids: readonly string[]): Promise<string> {
    runNo += 1;
    // As the login the program's own submission uses: one submitter, whose files on the
    // shared stand-ins its jobs can all append to.
    const login = program.connection.user;
    const dir = `/home/${login}/run-${runNo}`;
    const sub = renderSubmitFile({ flavor: "c2-7.5gb-30", environment: { CATALOGUE_DEST: `vos:${USER}/catalogues` }, x509UserProxy: "cadcproxy.pem" });
    await node().runOk(["install", "-d", "-o", login, "-g", login, dir]);
    await writeRootFile(node().root, `${dir}/do_catalogue.sub`, sub, "644", `${login}:${login}`);
    // What submit.sh writes: one job a line.
    await writeRootFile(node().root, `${dir}/queue.txt`, `${ids.join("\n")}\n`, "644", `${login}:${login}`);
    await writeRootFile(node().root, `${dir}/do_catalogue.bash`, readFileSync(resolve(__dirname, "../../provisioning/worker/do_catalogue.bash"), "utf8"), "755", `${login}:${login}`);
    // The submission's certificate (cadc-get-cert's stand-in): what the jobs present to CADC.
    await node().runOk(`cd ${dir} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=${USER} -days 2 -keyout k -out c 2>/dev/null && cat c k > cadcproxy.pem && rm k c && chmod 600 cadcproxy.pem`, { user: login });
    const r = await node().runOk(`cd ${dir} && condor_submit do_catalogue.sub`, { user: login });
    const m = /(\d+) job\(s\) submitted to cluster (\d+)\./.exec(r.stdout);
    if (m === null) throw new Error(`condor_submit printed no cluster: ${r.stdout}`);
    return m[2] ?? "";
  }

  /** A drain-worker.sh on the submit node is in its `sleep` between checks (seen in /proc from outside). */
  function drainSleeping(): boolean {
    const procs = node()
      .root.ns.members()
      .flatMap((pid) => {
        try {
          // /proc/PID/stat: "PID (COMM) STATE PPID ..."; COMM may hold spaces, so split after ") ".
          const ppid = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
          return [{ pid, ppid, argv: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0") }];
        } catch {
          return []; // Ended meanwhile.
        }
      });
    const drains = new Set(procs.filter((p) => p.argv.some((a) => a.endsWith("drain-worker.sh"))).map((p) => p.pid));
    return procs.some((p) => p.argv[0] === "sleep" && drains.has(p.ppid));
  }

  /** Completed jobs of a cluster as "ProcId JobStatus ExitCode NumJobStarts" lines, sorted. */
  async function history(cluster: string): Promise<string[]> {
    const r = await node().run(["condor_history", cluster, "-af", "Args", "JobStatus", "ExitCode", "NumJobStarts"]);
    return r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n").sort();
  }
  async function waitDone(cluster: string, n: number, timeoutMs: number): Promise<void> {
    await waitFor(async () => (await history(cluster)).length >= n, timeoutMs, `cluster ${cluster}'s ${n} job(s) to complete`, 2_000).catch(async (e: Error) => {
      const q = await node().run(["condor_q", cluster, "-af", "Args", "JobStatus", "HoldReason", "LastRemoteHost"]);
      throw new Error(`${e.message}\nqueue:\n${q.stdout}${q.stderr}\nSchedLog:\n${node().log("SchedLog").split("\n").slice(-30).join("\n")}`);
    });
  }
  async function slots(): Promise<string[]> {
    const r = await node().run(["condor_status", "-af", "Machine", "State", "AuthenticatedIdentity", "AuthenticationMethod"]);
    return r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n");
  }
  async function waitRunningOn(id: string): Promise<string> {
    let host = "";
    await waitFor(async () => {
      host = startsOf(id).at(-1) ?? "";
      return host !== "";
    }, 120_000, `job ${id} to start`);
    return host;
  }

  /** A command string of the program's, run over real SSH on the submit node as its connection declares: login, key, pinned host key. */
  const ssh = (command: string, stdin?: string): Promise<ExecResult> =>
    sshRun({ port: sshd.port, user: program.connection.user, keyPath: key.privateKeyPath, hostKey: program.connection.hostKey }, command, stdin);
  const sshOk = async (c: DeclaredCommand, command = c.create): Promise<ExecResult> => {
    const r = await ssh(assertPlain(command, c.name), c.stdin === undefined ? undefined : assertPlain(c.stdin, `${c.name} stdin`));
    if (r.code !== 0) throw new Error(`${c.name} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  const workerSpecs = (): NodeSpec[] => program.workers;

  beforeAll(async () => {
    key = await makeSshKey(mkdtempSync(join(tmpdir(), "self-hosted-pool-key-")));
    // The submit node's host key as a real run makes it (provisioning/local/generate-host-key.sh);
    // the offline stand-in is no usable key.
    const hostKey = await generatedHostKey();
    program = await declaredPool(selfHostedStack(key, POOL_PASSWORD, 2), hostKey);
    // The impostor: a third worker of the same program, under another pool secret.
    const other = await declaredPool(selfHostedStack(key, IMPOSTOR_PASSWORD, 3), hostKey);
    const third = other.workers[2];
    if (third === undefined) throw new Error("the program declared no third worker");
    impostorSpec = third;
    phase("program evaluated");
    const base = await nodeBase();
    phase("node root ready (cached or built)");
    shared = makeSharedDir(USER);
    for (const [i, id] of [...SIX, KILLED, DRAINED].entries()) {
      const s = await ensureSampleExposure({ id, ccds: 2, width: 512, height: 512, seed: 100 + i, starsPerCcd: 40 });
      samples.set(id, s);
      copyFileSync(s.fzPath, join(shared, "archive/CFHT", `${id}.fits.fz`));
    }
    phase("exposures in the archive stand-in");
    const opts = { base, shared, user: USER, login: { user: program.connection.user, publicKey: key.publicKey } };
    // The submit node first: the workers' first ads go to its collector.
    submit = await PoolNode.start(program.submit, opts);
    // CADC's certificate service for the submission's certificate step (the image has the real cadc-get-cert).
    await writeRootFile(submit.root, "/usr/local/bin/cadc-get-cert", cadcGetCertDouble({ user: USER, password: CADC_PASSWORD }), "755");
    sshd = await submit.startSshd();
    phase("submit node: cloud-init done, condor_master and sshd started");
    const started = await Promise.allSettled(workerSpecs().map((w) => PoolNode.start(w, opts)));
    for (const s of started) if (s.status === "fulfilled") workers.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    phase("workers: cloud-init done, condor_master started");
    await waitFor(async () => new Set((await slots()).map((l) => l.split(" ")[0])).size === 2, 120_000, "both workers' slots in the collector").catch(async (e: Error) => {
      const keys = await workers[0]?.run("ls -l /etc/condor/passwords.d /etc/condor/tokens.d; tail -n 25 /var/log/cloud-init-output.log");
      throw new Error(`${e.message}\nCollectorLog:\n${node().log("CollectorLog").split("\n").slice(-40).join("\n")}\nworker StartLog:\n${workers[0]?.log("StartLog").split("\n").slice(-30).join("\n")}\nworker keys and cloud-init output:\n${keys?.stdout ?? ""}${keys?.stderr ?? ""}`);
    });
    phase("pool formed");
  }, 600_000);

  afterAll(async () => {
    const all = [impostor, ...workers, submit].filter((n): n is PoolNode => n !== undefined);
    await Promise.allSettled(all.map((n) => n.stop()));
    if (shared !== "") await removeSharedDir(shared);
    // cloud-init set each root's host name inside the root's own UTS namespace only.
    expect(machineHostname()).toBe(machineName);
    phase("torn down");
  }, 120_000);

  it("every root ran the program's user-data for its server through cloud-init: its host name, its config, the key root-only", async () => {
    expect(program.submit.hostname).toMatch(/^canfar-batch-self-hosted-submit$/);
    expect(workerSpecs().map((w) => w.hostname)).toEqual(["canfar-batch-self-hosted-worker-0", "canfar-batch-self-hosted-worker-1"]);
    for (const n of [node(), ...workers]) {
      // cloud-init's own copy of what it ran: the Instance's userData, byte for byte.
      // (Read inside the root: /var/lib/cloud/instance is an absolute symlink.) Compared, not shown: it holds the pool secret.
      expect((await n.runOk("cat /var/lib/cloud/instance/user-data.txt")).stdout === n.spec.userData, n.hostname).toBe(true);
      expect(n.cloudInit?.code, n.hostname).toBe(0);
      expect((await n.runOk("hostname")).stdout.trim()).toBe(n.hostname);
      expect((await n.runOk("stat -c '%a %U' /etc/condor/passwords.d/POOL")).stdout.trim(), n.hostname).toBe("600 root");
      expect((await n.runOk(["condor_config_val", "CONDOR_HOST"])).stdout.trim()).toBe(program.submit.address);
    }
    expect(machineHostname()).toBe(machineName);
  });

  it("writes the pool key as HTCondor's own condor_store_cred writes it", async () => {
    // The tool, on the submit node, into a scratch file: the same bytes as cloud-init wrote.
    await writeRootFile(node().root, "/root/pw", POOL_PASSWORD, "600");
    const r = await node().run(["sh", "-c", 'condor_store_cred add -c -f /root/POOL.tool -p "$(cat /root/pw)" >/dev/null 2>&1; cmp /root/POOL.tool /etc/condor/passwords.d/POOL && echo same; rm -f /root/pw /root/POOL.tool']);
    expect(r.stdout.trim()).toBe("same");
  });

  it("forms the pool: both workers' slots in the collector, each authenticated with IDTOKENS as the pool's daemon", async () => {
    const lines = await slots();
    const machines = new Set(lines.map((l) => l.split(" ")[0]));
    expect([...machines].sort()).toEqual(workerSpecs().map((w) => w.hostname).sort());
    console.log(`collector's view of the slots: ${lines.join(" | ")}`);
    for (const l of lines) {
      const [, , identity, method] = l.split(" ");
      // What HTCondor 23.9 names a daemon that authenticated with the pool key's own token.
      expect(identity, l).toMatch(/^condor@/);
      expect(method, l).toBe("IDTOKENS");
    }
    // The submit node runs no execute slot of its own.
    expect(machines.has(program.submit.hostname)).toBe(false);
  });

  it("binds each node to its own loopback address only, never to every interface", async () => {
    const addresses = await sh("condor_status -any -af MyType Machine MyAddress");
    for (const l of addresses.stdout.trim().split("\n")) {
      const [, machine, address] = l.split(" ");
      const own = [program.submit, ...workerSpecs()].find((n) => n.hostname === machine)?.address;
      if (own !== undefined) expect(address, l).toMatch(new RegExp(`^<${own.replace(/\./g, "\\.")}:9618[?>]`));
    }
    // The kernel's listening sockets on 9618 (hex 2592): ours on 127.0.10.x, none on 0.0.0.0.
    const listening = readFileSync("/proc/net/tcp", "utf8").split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === "0A" && f[1]?.endsWith(":2592"));
    const hexOf = (ip: string) => ip.split(".").reverse().map((o) => Number(o).toString(16).padStart(2, "0")).join("").toUpperCase();
    for (const n of [program.submit, ...workerSpecs()]) expect(listening.map((f) => f[1]), n.hostname).toContain(`${hexOf(n.address)}:2592`);
    expect(listening.map((f) => f[1])).not.toContain("00000000:2592");
  });

  it("the submit node's sshd shows the host key the program pins, which its user-data gave it", () => {
    expect(program.connection.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(sshd.hostKey).toBe(program.connection.hostKey.split(" ").slice(0, 2).join(" "));
  });

  it("submits the program's six exposures with its declared commands over SSH: on both workers, six whole catalogues, each stored once, follow.sh says done", async () => {
    const batch = program.batch;
    expect(batch.deliveries.length).toBeGreaterThan(0);
    for (const d of batch.deliveries) await sshOk(d);
    // Its stdin is the CADC password: declared secret, revealed by the evaluation for this replay.
    await sshOk(batch.certificate);
    expect(batch.submit.create).toContain("--mode self-hosted");
    const submitted = await sshOk(batch.submit);
    const result = parseSubmitOutput(keptStdout(submitted.stdout));
    expect(result).toEqual({ cluster: result.cluster, jobs: SIX.length, total: SIX.length, done: 0, pipeline: result.pipeline, runDir: `/home/${program.connection.user}/${batch.runDir}` });
    // Catalogues are named by the pipeline's identity (a campaign's ID.P.cat).
    expect(result.pipeline).toMatch(/^[0-9a-f]{12}$/);
    phase("submitted over SSH");
    const cluster = result.cluster ?? "none";
    await waitDone(cluster, SIX.length, 300_000);
    phase("six jobs done");
    const done = await history(cluster);
    expect(done).toEqual(SIX.map((id) => `${id} ${COMPLETED} 0 1`).sort());
    expect(new Set(SIX.flatMap(startsOf))).toEqual(new Set(workerSpecs().map((w) => w.hostname)));
    expect(catalogues()).toEqual(SIX.map((id) => `${id}.${result.pipeline}.cat`));
    for (const id of SIX) {
      const rows = readCatalogue(join(shared, `vospace/${USER}/catalogues/${id}.${result.pipeline}.cat`)).rows;
      expect(rows.length, id).toBeGreaterThan(20);
      expect(cadcCalls("vmv", id), id).toBe(1);
    }
    // The stack's followCommand, as the user pastes it: its remote part over SSH.
    const follow = followRemoteCommand(batch, `ssh ${program.connection.user}@${program.connection.host} `, cluster);
    const followed = await ssh(`${follow} --interval 1 --timeout 60`);
    expect(followed.stdout).toContain(`cluster ${cluster}: 0 idle, 0 running, 6 done, 0 held of 6`);
    expect(followed.code, followed.stderr).toBe(0);
  }, 400_000);

  it("refuses an impostor with the program's worker user-data but another pool secret: no slot, no submit", async () => {
    const IMPOSTOR = impostorSpec;
    expect(IMPOSTOR.userData).not.toBe(workerSpecs()[0]?.userData);
    impostor = await PoolNode.start(IMPOSTOR, { base: await nodeBase(), shared, user: USER, login: { user: program.connection.user, publicKey: key.publicKey } });
    phase("impostor started");
    // Let it try for several update intervals (5 s in the test configuration).
    await waitFor(async () => /127\.0\.10\.4/.test(node().log("CollectorLog")), 60_000, "the impostor's attempt in the CollectorLog");
    await new Promise((r) => setTimeout(r, 15_000));
    expect((await slots()).filter((l) => l.startsWith(IMPOSTOR.hostname))).toEqual([]);
    const refusals = node().log("CollectorLog").split("\n").filter((l) => l.includes(`required authentication of ${IMPOSTOR.address} failed`));
    expect(refusals.length).toBeGreaterThan(0);
    console.log(`collector refusal of the impostor, first of ${refusals.length}: ${refusals[0]}`);
    // Its user submits to the pool's schedd: the address file tells condor_submit where it is
    // (the impostor runs no schedd of its own), so the schedd itself must refuse.
    await writeRootFile(impostor.root, `/home/${USER}/probe.sub`, "executable = /bin/true\nqueue\n", "644", `${USER}:${USER}`);
    const address = (await sh("condor_status -schedd -af MyAddress")).stdout.trim();
    expect(address).toMatch(/^<127\.0\.10\.1:9618/);
    await writeRootFile(impostor.root, "/var/tmp/pool-schedd-address", `${address}\n`);
    const sub = await impostor.run(["env", "_CONDOR_SCHEDD_ADDRESS_FILE=/var/tmp/pool-schedd-address", "condor_submit", "probe.sub"], { user: USER, timeoutMs: 60_000 });
    console.log(`impostor's condor_submit exited ${sub.code}: ${sub.stderr.trim().split("\n").slice(0, 3).join(" / ")}`);
    expect(sub.code).not.toBe(0);
    expect(sub.stderr + sub.stdout).toMatch(/authenticat|permission denied/i);
    expect((await node().run(["condor_q", "-allusers", "-af", "Cmd"])).stdout).not.toContain("/bin/true");
    await impostor.stop();
    impostor = undefined;
  }, 200_000);

  it("re-runs the job of a worker killed mid-job on the other worker: its catalogue arrives once", async () => {
    writeFileSync(join(shared, "gates", KILLED), "");
    const cluster = await submitRun([KILLED]);
    const first = await waitRunningOn(KILLED);
    const victim = workers.find((w) => w.hostname === first);
    const survivor = workers.find((w) => w.hostname !== first);
    if (victim === undefined || survivor === undefined) throw new Error(`job ran on unknown host ${first}`);
    const pids = victim.kill();
    phase(`killed ${victim.hostname} (${pids.length} processes) mid-job`);
    rmSync(join(shared, "gates", KILLED));
    await waitDone(cluster, 1, 240_000);
    phase("killed worker's job re-ran");
    expect(startsOf(KILLED)).toEqual([victim.hostname, survivor.hostname]);
    const [line] = await history(cluster);
    expect(line).toBe(`${KILLED} ${COMPLETED} 0 2`);
    expect(catalogues()).toContain(`${KILLED}.cat`);
    expect(cadcCalls("vcp", KILLED)).toBe(1);
    expect(cadcCalls("vmv", KILLED)).toBe(1);
    expect(readCatalogue(join(shared, `vospace/${USER}/catalogues/${KILLED}.cat`)).rows.length).toBeGreaterThan(20);
    // The killed worker's root is cleaned up now; the survivor carries on alone.
    await victim.stop();
    workers.splice(workers.indexOf(victim), 1);
  }, 400_000);

  it("the worker's declared drain, run over SSH on the submit node as declared, lets the running job finish, takes the worker out, exits 0", async () => {
    const worker = workers[0];
    if (worker === undefined) throw new Error("no worker left");
    // The program puts the script on the submit node, then each worker's drain command's
    // delete runs it there (sudo: the login is the image's default user, draining is root's).
    await sshOk(program.stageDrain);
    const declared = program.drains.find((d) => d.delete?.includes(`--worker '${worker.hostname}'`));
    if (declared?.delete === undefined) throw new Error(`no drain command declared for ${worker.hostname}`);
    expect(declared.delete).toMatch(/^sudo -n bash /);
    // The script takes the last of a repeated option: the declared half hour, made shorter
    // (the bounded case) and polled faster (a test's seconds), and otherwise as declared.
    const drain = (extra: string) => ssh(`${assertPlain(declared.delete ?? "", declared.name)} ${extra}`);
    writeFileSync(join(shared, "gates", DRAINED), "");
    const cluster = await submitRun([DRAINED]);
    expect(await waitRunningOn(DRAINED)).toBe(worker.hostname);
    // Bounded: with the job still running, a 2 s timeout ends in exit 8, the worker left drained.
    const short = await drain("--timeout 2 --poll 1");
    expect(short.code, short.stderr).toBe(8);
    expect(short.stderr).toContain(`${worker.hostname} is still in the pool after 2 s; it stays drained`);
    const draining = drain("--poll 2");
    // The worker reports Draining while its job still runs (held at its gate).
    // And the drain over SSH has made its first check (it sleeps between checks): the gate
    // goes only then, or the job could end before the drain ever saw it running.
    const drainPolled = async () => (await sh(`condor_status -af Draining -constraint 'Machine == "${worker.hostname}"'`)).stdout.includes("true") && drainSleeping();
    await waitFor(drainPolled, 60_000, "the worker to be draining and the drain to have checked once").catch(
      async (e: Error) => {
        rmSync(join(shared, "gates", DRAINED), { force: true });
        const r = await draining;
        throw new Error(`${e.message}\ndrain-worker.sh exited ${r.code}:\n${r.stderr}`);
      },
    );
    rmSync(join(shared, "gates", DRAINED));
    const drained = await draining;
    phase("drain-worker.sh returned");
    console.log(`drain-worker.sh:\n${drained.stderr}`);
    expect(drained.code, drained.stderr).toBe(0);
    // It waited while the job ran: the progress line counted its job.
    expect(drained.stderr).toMatch(/: [1-9][0-9]* job\(s\) still running there, waiting/);
    await waitDone(cluster, 1, 60_000);
    expect(await history(cluster)).toEqual([`${DRAINED} ${COMPLETED} 0 1`]);
    expect(startsOf(DRAINED)).toEqual([worker.hostname]);
    expect(cadcCalls("vmv", DRAINED)).toBe(1);
    await waitFor(async () => (await slots()).every((l) => !l.startsWith(worker.hostname)), 30_000, "the drained worker to leave the collector");
    // Idempotent: the worker is gone, a second run is success and does nothing.
    const again = await drain("--poll 1");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("not in the pool");
  }, 400_000);

  it("leaves the pool password in no log, spool or home of any node, nor in the shared stand-ins", async () => {
    for (const n of [node(), ...workers]) {
      await writeRootFile(n.root, "/root/needle", POOL_PASSWORD, "600");
      const r = await n.run(["sh", "-c", "grep -rlF -f /root/needle /var/log /var/lib/condor /home /tmp /var/tmp /etc/condor/config.d; rm -f /root/needle"]);
      expect(r.stdout, n.hostname).toBe("");
    }
    const host = await node().root.ns.exec(["grep", "-rlF", "--", POOL_PASSWORD, shared]);
    expect(host.stdout).toBe("");
  });
});
