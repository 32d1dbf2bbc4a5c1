import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { missing } from "../support/requirements";
import { BATCH_USER, BatchHost, DOUBLE_STATE, VOSPACE } from "./batch-host";
import { campaignSubmitFile, type CampaignRun } from "./campaign-files";

const SUBMIT = resolve(__dirname, "../../provisioning/batch-host/submit.sh");
const CLI = resolve(__dirname, "../../provisioning/lib/cli.sh");
const CAMPAIGN_JOBS = resolve(__dirname, "../../provisioning/batch-host/campaign-jobs.sh");
const PIPELINE = resolve(__dirname, "../../provisioning/worker/do_catalogue.bash");
const IMAGE = "image-reduction-2026-11-24";
const FLAVOR = "c2-7.5gb-30";
// Characters a shell or a log line could trip on: the password must pass through intact.
const PASSWORD = "pa ss'w\"rd$(id)!#x";
const CREDENTIALS = [
  "OS_AUTH_URL=https://arbutus.cloud.computecanada.ca:5000/v3",
  "OS_PROJECT_ID=0123456789abcdef",
  "OS_PROJECT_NAME=rpp-canfar",
  "OS_USERNAME=astro",
  `OS_PASSWORD=${PASSWORD}`,
  "OS_USER_DOMAIN_NAME=CCDB",
  "",
].join("\n");
const IDS = ["1056215p", "1056216p", "1056217p", "1056218p"];
const P = "3fa9c0d21b7e";
const OTHER_P = "0123456789ab";
const DEST = `vos:${BATCH_USER}/cats`;
const RUN: CampaignRun = { ids: IDS, flavor: FLAVOR, dest: DEST, pipeline: P, image: IMAGE };

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "scp", "ssh-keygen"], root: true });

describe.skipIf(why)("submit.sh on a batch host over real SSH, with canfar_submit doubles", () => {
  let host: BatchHost;
  let local: string;

  beforeAll(async () => {
    local = mkdtempSync(join(tmpdir(), "submit-test-"));
    host = await BatchHost.start();
    await host.ssh("mkdir -p canfar-batch runs");
    await host.copy(SUBMIT, "canfar-batch/submit.sh");
    // As the program delivers it: beside submit.sh, which sources it.
    await host.copy(CLI, "canfar-batch/cli.sh");
    await host.copy(CAMPAIGN_JOBS, "canfar-batch/campaign-jobs.sh");
  }, 900_000);

  afterAll(async () => {
    await host?.cleanup();
    if (local !== undefined) rmSync(local, { recursive: true, force: true });
  });

  /** Delivers do_catalogue.bash, do_catalogue.sub and exposures.txt into ~/runs/NAME, as the program does. */
  async function deliverRun(name: string, sub = campaignSubmitFile(RUN), ids: readonly string[] = IDS): Promise<string> {
    const dir = `runs/${name}`;
    expect((await host.ssh(`mkdir -p ${dir}`)).code).toBe(0);
    await host.copy(PIPELINE, `${dir}/do_catalogue.bash`);
    for (const [file, text] of [["do_catalogue.sub", sub], ["exposures.txt", ids.map((id) => `${id}\n`).join("")]]) {
      const path = join(local, `${name}.${file}`);
      writeFileSync(path, text);
      await host.copy(path, `${dir}/${file}`);
    }
    return dir;
  }

  const submit = (dir: string, mode: "csv1" | "csv2" | "self-hosted", stdin?: string, extra = "", campaign = `--dest ${DEST} --pipeline ${P}`) =>
    host.ssh(`bash canfar-batch/submit.sh --run-dir ${dir} --mode ${mode} --image ${IMAGE} ${mode === "csv1" ? `--flavor ${FLAVOR}` : ""} ${campaign} ${extra}`, stdin);
  /** The result line for N of the IDS queued to cluster C in runs/NAME. */
  const result = (dir: string, cluster: string | null, jobs = IDS.length, total = IDS.length, done = 0, inFlight = 0) => ({
    cluster,
    jobs,
    total,
    done,
    inFlight,
    pipeline: P,
    runDir: `/home/${BATCH_USER}/${dir}`,
  });
  /** Puts catalogues named NAME (e.g. 1056215p.3fa9c0d21b7e.cat) into the VOSpace stand-in's DEST. */
  async function stored(...names: string[]): Promise<void> {
    const r = await host.ssh(`mkdir -p ${VOSPACE}/${BATCH_USER}/cats && cd ${VOSPACE}/${BATCH_USER}/cats && rm -f -- * .[!.]* && for f in ${names.join(" ")}; do echo x > "$f"; done`);
    expect(r.code, r.stderr).toBe(0);
  }
  const queueFile = async (dir: string) => (await host.ssh(`cat ${dir}/queue.txt`)).stdout.split("\n").filter((l) => l !== "");

  const condorSubmits = () => host.calls().filter((c) => c.startsWith("condor_submit"));

  /** A one-day certificate as DIR/cadcproxy.pem, in the proxy's layout (certificate, then key). */
  async function makeProxy(dir: string): Promise<void> {
    const made = await host.ssh(
      `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=${BATCH_USER} -days 1 -keyout ${dir}/k -out ${dir}/c 2>/dev/null && cat ${dir}/c ${dir}/k > ${dir}/cadcproxy.pem`,
    );
    expect(made.code, made.stderr).toBe(0);
  }

  it("csv1: submits with the credentials in canfar_submit's environment only, and reports the cluster", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: `${IMAGE} canfar-ubuntu-20.04` });
    const dir = await deliverRun("csv1");
    const r = await submit(dir, "csv1", CREDENTIALS);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234"));
    const calls = host.calls();
    expect(calls).toContain(`canfar_submit do_catalogue.sub ${IMAGE} ${FLAVOR}`);
    const sha = createHash("sha256").update(PASSWORD).digest("hex");
    expect(calls).toContain(
      "canfar_submit env: OS_AUTH_URL=https://arbutus.cloud.computecanada.ca:5000/v3 OS_PROJECT_ID=0123456789abcdef " +
        `OS_PROJECT_NAME=rpp-canfar OS_USERNAME=astro OS_USER_DOMAIN_NAME=CCDB OS_PASSWORD_SHA256=${sha}`,
    );
    expect(calls).not.toContain("canfar_submit PASSWORD-IN-ARGV");
    expect(condorSubmits()).toHaveLength(1);
    // The password is nowhere: not in the output, the doubles' files, or the run directory.
    const runFiles = await host.ssh(`cat ${dir}/.canfar-submitted ${dir}/*`);
    for (const text of [r.stdout, r.stderr, host.doubleFiles(), runFiles.stdout]) {
      expect(text).not.toContain(PASSWORD);
    }
    expect(runFiles.stdout).toContain("cluster=1234");
  });

  it("does not submit twice for the same content, and submits again when the .sub changes", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: IMAGE });
    const dir = await deliverRun("rerun");
    const first = await submit(dir, "csv1", CREDENTIALS);
    expect(first.code).toBe(0);
    const again = await submit(dir, "csv1", CREDENTIALS);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
    expect(again.stderr).toContain("already submitted as cluster 1234");
    expect(condorSubmits()).toHaveLength(1);

    await deliverRun("rerun", undefined, [...IDS, "1056219p"]);
    const changed = await submit(dir, "csv1", CREDENTIALS);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ cluster: "1235", jobs: 5, total: 5 });
    expect(changed.stderr).toContain("content changed since cluster 1234 was submitted");
    expect(condorSubmits()).toHaveLength(2);
  });

  it("self-hosted: calls condor_submit with the submit file only, never canfar_submit, and reports the cluster once", async () => {
    await host.configure({});
    await stored();
    const dir = await deliverRun("self-hosted");
    const r = await submit(dir, "self-hosted", undefined, `--flavor ${FLAVOR}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234"));
    expect(r.stderr).toContain(`--flavor ${FLAVOR} ignored: self-hosted takes no flavor`);
    expect(host.calls().filter((c) => c.startsWith("canfar_submit"))).toEqual([]);
    expect(condorSubmits()).toEqual(["condor_submit do_catalogue.sub"]);
    // It asked the local schedd first (a fresh submit node may still be starting HTCondor).
    const calls = host.calls();
    expect(calls.indexOf("condor_q -totals")).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf("condor_q -totals")).toBeLessThan(calls.indexOf("condor_submit do_catalogue.sub"));
    // The same content again: the recorded cluster, nothing submitted.
    const again = await submit(dir, "self-hosted");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(r.stdout));
    expect(again.stderr).toContain("already submitted as cluster 1234");
    expect(condorSubmits()).toHaveLength(1);
    // A new image is a new submission decision (listed again), though condor_submit never sees
    // the image's name: nothing was catalogued meanwhile, so all are queued again.
    const newImage = await host.ssh(`bash canfar-batch/submit.sh --run-dir ${dir} --mode self-hosted --image ${IMAGE}-b --dest ${DEST} --pipeline ${P}`);
    expect(newImage.code, newImage.stderr).toBe(0);
    expect(JSON.parse(newImage.stdout)).toMatchObject({ cluster: "1235", jobs: 4 });
  });

  it("self-hosted: a condor_submit failure is quoted with exit 10 and leaves no marker", async () => {
    await host.configure({ CONDOR_DOUBLE_FAIL: "1" });
    const dir = await deliverRun("self-hosted-broken");
    const r = await submit(dir, "self-hosted");
    expect(r.code).toBe(10);
    expect(r.stderr).toContain("condor_submit failed (exit 1): ERROR: Failed to connect to local queue manager");
    expect(r.stdout).toBe("");
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
  });

  it("self-hosted: refuses a certificate expiring within the run, with nothing queued", async () => {
    await host.configure({});
    const dir = await deliverRun("self-hosted-proxy");
    await makeProxy(dir);
    const r = await submit(dir, "self-hosted", undefined, "--proxy cadcproxy.pem --min-valid 172800");
    expect(r.code).toBe(17);
    expect(r.stderr).toContain("within the run's expected length of 48 h");
    expect(condorSubmits()).toEqual([]);
  });

  it("csv2: calls canfar_submit with JOB IMAGE only and ignores the flavor", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
    const dir = await deliverRun("csv2");
    const r = await submit(dir, "csv2", undefined, `--flavor ${FLAVOR}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234"));
    expect(r.stderr).toContain(`--flavor ${FLAVOR} ignored`);
    expect(host.calls()).toContain(`canfar_submit do_catalogue.sub ${IMAGE}`);
  });

  it("detects csv2's usage-and-exit-0 when called in the three-argument csv1 form", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
    const dir = await deliverRun("trap");
    const r = await submit(dir, "csv1", CREDENTIALS);
    expect(r.code).toBe(11);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("canfar_submit printed its usage and exited 0: nothing was submitted");
    expect(r.stderr).toContain("set the mode to csv2");
    expect(r.stderr).toContain("Usage: canfar_submit [OPTION] JOB_FILE VM_IMAGE");
    expect(condorSubmits()).toEqual([]);
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
  });

  it("quotes canfar_submit's quota failure with its own exit code and writes no marker", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: IMAGE, CANFAR_DOUBLE_FAIL: "quota" });
    const dir = await deliverRun("quota");
    const r = await submit(dir, "csv1", CREDENTIALS);
    expect(r.code).toBe(12);
    expect(r.stderr).toContain("Quota exceeded for resources: ['image_members']");
    expect(condorSubmits()).toEqual([]);
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
  });

  it("detects csv1's usage-and-exit-0 when called in the two-argument csv2 form", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: IMAGE });
    const dir = await deliverRun("trap1");
    const r = await submit(dir, "csv2");
    expect(r.code).toBe(11);
    expect(r.stderr).toContain("set the mode to csv1");
    expect(r.stderr).toContain("Usage: canfar_submit [OPTION] JOB_FILE VM_IMAGE VM_FLAVOR");
    expect(condorSubmits()).toEqual([]);
  });

  it("does not trust an exit code 0 without condor_submit's cluster line", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv2", CANFAR_DOUBLE_FAIL: "silent" });
    const dir = await deliverRun("silent");
    const r = await submit(dir, "csv2");
    expect(r.code).toBe(16);
    expect(r.stderr).toContain("canfar_submit exited 0 but printed no 'N job(s) submitted to cluster C.' line");
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
  });

  it("bounds a canfar_submit that hangs with --timeout", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv2", CANFAR_DOUBLE_HANG: "600" });
    const dir = await deliverRun("hang");
    const r = await submit(dir, "csv2", undefined, "--timeout 2");
    expect(r.code).toBe(15);
    expect(r.stderr).toContain("canfar_submit did not finish in time and was stopped; check condor_q before running again");
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
  });

  it("reports an image csv1 cannot resolve to exactly one", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: `${IMAGE} ${IMAGE}` });
    const dir = await deliverRun("dup");
    const r = await submit(dir, "csv1", CREDENTIALS);
    expect(r.code).toBe(13);
    expect(r.stderr).toContain(`Multiple image IDs in tenant '0123456789abcdef' match image name '${IMAGE}'`);
  });

  it("reports csv1's refusal of a submit file that sets Requirements", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: IMAGE });
    const dir = await deliverRun("requirements", `Requirements = true\n${campaignSubmitFile(RUN)}`);
    const r = await submit(dir, "csv1", CREDENTIALS);
    expect(r.code).toBe(14);
    expect(r.stderr).toContain("jobfile should not contain parameter 'Requirements'");
  });

  it("refuses credentials it does not expect, naming the key but never echoing values", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: IMAGE });
    const dir = await deliverRun("badcreds");
    const r = await submit(dir, "csv1", `${CREDENTIALS}OS_TOKEN=tok-secret-123\n`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("'OS_TOKEN' is not accepted");
    expect(r.stderr).not.toContain("tok-secret-123");
    const lacking = await submit(dir, "csv1", CREDENTIALS.replace(/^OS_PASSWORD=.*\n/m, ""));
    expect(lacking.code).toBe(3);
    expect(lacking.stderr).toContain("stdin lacks OS_PASSWORD");
    expect(host.calls()).toEqual([]);
  });

  it("refuses a proxy certificate that expires within the run's expected length, before anything is queued", async () => {
    await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
    const dir = await deliverRun("proxy");
    // Valid two hours: enough for neither a 3-hour run nor a missing file's run.
    await makeProxy(dir);
    const short = await submit(dir, "csv2", undefined, "--proxy cadcproxy.pem --min-valid 172800");
    expect(short.code).toBe(17);
    expect(short.stderr).toMatch(/the jobs' proxy certificate \/home\/\S+\/cadcproxy\.pem expires .+, within the run's expected length of 48 h \(172800 s\)/);
    expect(short.stderr).toContain("Nothing was submitted");
    const absent = await submit(dir, "csv2", undefined, "--proxy other.pem --min-valid 60");
    expect(absent.code).toBe(17);
    expect(absent.stderr).toContain("other.pem is missing");
    expect(host.calls()).toEqual([]);
    expect((await host.ssh(`test -e ${dir}/.canfar-submitted`)).code).not.toBe(0);
    const enough = await submit(dir, "csv2", undefined, "--proxy cadcproxy.pem --min-valid 3600");
    expect(enough.stderr).toContain("proxy certificate cadcproxy.pem valid until");
    expect(enough.code).toBe(0);
    expect(condorSubmits()).toHaveLength(1);
  });

  it("rejects bad arguments before touching anything", async () => {
    const r = await host.ssh("bash canfar-batch/submit.sh --run-dir runs/none --mode csv3 --image x");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--mode 'csv3': expected csv1, csv2 or self-hosted");
    const noFlavor = await host.ssh("bash canfar-batch/submit.sh --run-dir runs/csv1 --mode csv1 --image x");
    expect(noFlavor.code).toBe(2);
    expect(noFlavor.stderr).toContain("csv1 needs a flavor");
    const halfProxy = await host.ssh("bash canfar-batch/submit.sh --run-dir runs/none --mode csv2 --image x --proxy cadcproxy.pem");
    expect(halfProxy.code).toBe(2);
    expect(halfProxy.stderr).toContain("--min-valid '': expected a number of seconds (with --proxy)");
    const help = await host.ssh("bash canfar-batch/submit.sh --help");
    expect(help.code).toBe(0);
    expect(help.stderr).toContain("usage: submit.sh --run-dir DIR --mode csv1|csv2|self-hosted --image IMAGE_NAME");
  });
  describe("in flight: an exposure an earlier cluster of the stack still runs is never queued twice", () => {
    const MORE = [...IDS, "1056219p", "1056220p"];
    const condorCalls = () => host.calls().filter((c) => /^condor_(q|rm|submit) /.test(c) && c !== "condor_q -totals");

    /** An earlier submission of STACK: a run directory STACK-HASH with only the marker submit.sh writes. */
    async function earlier(stack: string, hex: string, marker: Record<string, string>): Promise<void> {
      const dir = `runs/${stack}-${hex.repeat(12)}`;
      const text = Object.entries({ hash: "x", dest: DEST, policy: "changed", ...marker }).map(([k, v]) => `${k}=${v}\n`).join("");
      const r = await host.ssh(`mkdir -p ${dir} && cat > ${dir}/.canfar-submitted`, text);
      expect(r.code, r.stderr).toBe(0);
    }
    /** The queue the condor_q double answers from: "CLUSTER PROC STATUS ARGS [REASON]", as the batch user (condor_rm rewrites it). */
    async function queueJobs(...jobs: Array<[number, number, number, string, string?]>): Promise<void> {
      const text = jobs.map((j) => `${j.slice(0, 4).join("\t")}\t${j[4] ?? "undefined"}\n`).join("");
      const r = await host.ssh(`cat > ${DOUBLE_STATE}/jobs`, text);
      expect(r.code, r.stderr).toBe(0);
    }
    const queued = async () => (await host.ssh(`cat ${DOUBLE_STATE}/jobs`)).stdout;

    it("skips the exposures running, idle or several to a job in the stack's clusters of this pipeline, queues the rest, then removes the held job queued again", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored(`${IDS[0]}.${P}.cat`);
      await earlier("flight", "a", { cluster: "1200", pipeline: P });
      // Another pipeline's cluster, and another stack's: neither is asked about.
      await earlier("flight", "b", { cluster: "1100", pipeline: OTHER_P });
      await earlier("flight-2", "c", { cluster: "900", pipeline: P });
      await queueJobs(
        [1200, 0, 2, IDS[1]],
        [1200, 1, 1, `${IDS[2]} 1056219p`],
        [1200, 2, 5, IDS[3], "do_catalogue exited 3: download failed"],
        [1200, 3, 4, "1056220p"],
        [1100, 0, 2, "1056220p"],
        [900, 0, 2, IDS[3]],
      );
      const dir = await deliverRun(`flight-${"d".repeat(12)}`, undefined, MORE);
      const r = await submit(dir, "csv2");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued 2 of 6 (1 already catalogued by pipeline ${P}, 3 in flight)`);
      expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234", 2, 6, 1, 3));
      expect(await queueFile(dir)).toEqual([IDS[3], "1056220p"]);
      // One condor_q, over this pipeline's clusters of this stack; the held job removed once cluster 1234 was submitted.
      expect(condorCalls()).toEqual(["condor_q 1200 -af:t ClusterId ProcId JobStatus Args HoldReason", expect.stringMatching(/^condor_submit /), "condor_rm 1200.2"]);
      expect(r.stderr).toContain(`removed held job 1200.2 (${IDS[3]}): queued again in cluster 1234, so a later condor_release cannot do the work twice`);
      expect(await queued()).not.toMatch(/^1200\t2\t/m);
      expect(await queued()).toMatch(/^1200\t1\t/m);
      // The same content again: the recorded result, in flight count included, nothing asked.
      const again = await submit(dir, "csv2");
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual(JSON.parse(r.stdout));
      expect(condorCalls()).toHaveLength(3);
    });

    it("policy all queues again what is catalogued, never what is in flight", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored(`${IDS[0]}.${P}.cat`);
      await earlier("every", "a", { cluster: "1200", pipeline: P });
      await queueJobs([1200, 0, 1, IDS[1]]);
      const dir = await deliverRun(`every-${"b".repeat(12)}`);
      const r = await submit(dir, "csv2", undefined, "--policy all");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued 3 of 4 (1 already catalogued by pipeline ${P}, 1 in flight)`);
      expect(await queueFile(dir)).toEqual([IDS[0], IDS[2], IDS[3]]);
    });

    it("a failed submission removes no held job", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2", CONDOR_DOUBLE_FAIL: "1" });
      await stored();
      await earlier("failing", "a", { cluster: "1200", pipeline: P });
      await queueJobs([1200, 0, 5, IDS[0], "held"]);
      const r = await submit(await deliverRun(`failing-${"b".repeat(12)}`), "csv2");
      expect(r.code).toBe(10);
      expect(host.calls().filter((c) => c.startsWith("condor_rm"))).toEqual([]);
      expect(await queued()).toMatch(/^1200\t0\t5\t/m);
    });

    it("a condor_q that fails refuses the submission (exit 19): nothing listed, queued or recorded", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2", CONDOR_Q_DOUBLE_FAIL: "1" });
      await stored();
      await earlier("qfail", "a", { cluster: "1200", pipeline: P });
      const dir = await deliverRun(`qfail-${"b".repeat(12)}`);
      const r = await submit(dir, "csv2");
      expect(r.code).toBe(19);
      expect(r.stderr).toContain("condor_q 1200 failed (-- Failed to fetch ads from: <127.0.0.1:9618> : batch.canfar.net)");
      expect(r.stderr).toContain("nothing was queued rather than risk running them twice");
      expect(r.stdout).toBe("");
      expect(host.calls().filter((c) => !c.startsWith("condor_q "))).toEqual([]);
      expect(host.vosCalls()).toEqual([]);
      expect((await host.ssh(`test -e ${dir}/.canfar-submitted || test -e ${dir}/queue.txt`)).code).not.toBe(0);
    });

    it("no earlier cluster of this pipeline (none yet, one that queued nothing, another pipeline's): no condor_q at all", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored();
      const first = await submit(await deliverRun(`fresh-${"a".repeat(12)}`), "csv2");
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain(`queued 4 of 4 (0 already catalogued by pipeline ${P}, 0 in flight)`);
      await earlier("quiet", "a", { cluster: "", pipeline: P });
      await earlier("quiet", "b", { cluster: "1100", pipeline: OTHER_P });
      const r = await submit(await deliverRun(`quiet-${"c".repeat(12)}`), "csv2");
      expect(r.code, r.stderr).toBe(0);
      expect(host.calls().filter((c) => c.startsWith("condor_q"))).toEqual([]);
    });
  });

  describe("a campaign: one listing of the destination decides what is queued", () => {
    const catsOf = (ids: readonly string[], p = P) => ids.map((id) => `${id}.${p}.cat`);

    it("queues only the exposures without this pipeline's catalogue, in the campaign's order, after one listing", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored(...catsOf(IDS.slice(0, 2)));
      const more = [...IDS, "1056219p", "1056220p"];
      const dir = await deliverRun("campaign-add", undefined, more);
      const r = await submit(dir, "csv2");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued 4 of 6 (2 already catalogued by pipeline ${P}, 0 in flight)`);
      expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234", 4, 6, 2));
      expect(await queueFile(dir)).toEqual(more.slice(2));
      expect(host.vosCalls().filter((c) => c.startsWith("vls"))).toEqual([`vls ${DEST}`]);
      // The destination was made (vmkdir -p) and probed (vcp, vrm) before the listing.
      expect(host.vosCalls().map((c) => c.split(" ")[0])).toEqual(["vmkdir", "vcp", "vrm", "vls"]);
      expect(host.vosCalls()[0]).toBe(`vmkdir -p ${DEST}`);
    });

    it.each([
      ["changed", ["1056216p", "1056217p", "1056218p"], 1],
      ["missing", ["1056218p"], 1],
      ["all", IDS, 1],
    ] as const)("policy %s queues %j", async (policy, queued, done) => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      // 15: this pipeline's; 16: another's; 17: by hand; 18: only a half-stored part.
      await stored(`${IDS[0]}.${P}.cat`, `${IDS[1]}.${OTHER_P}.cat`, `${IDS[2]}.cat`, `.${IDS[3]}.cat.part-w-1`);
      const dir = await deliverRun(`policy-${policy}`);
      const r = await submit(dir, "csv2", undefined, `--policy ${policy}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued ${queued.length} of 4 (${done} already catalogued by pipeline ${P}, 0 in flight)`);
      expect(await queueFile(dir)).toEqual([...queued]);
      expect(JSON.parse(r.stdout)).toEqual(result(dir, "1234", queued.length, 4, done));
    });

    it("nothing to queue is success: cluster null, no submit tool called, and a re-run prints the same", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored(...catsOf(IDS), ...catsOf(IDS, OTHER_P));
      const dir = await deliverRun("converged");
      const r = await submit(dir, "csv2");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued 0 of 4 (4 already catalogued by pipeline ${P}, 0 in flight)`);
      expect(JSON.parse(r.stdout)).toEqual(result(dir, null, 0, 4, 4));
      expect(host.calls()).toEqual([]);
      expect(await queueFile(dir)).toEqual([]);
      const again = await submit(dir, "csv2");
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual(JSON.parse(r.stdout));
      expect(again.stderr).toContain("already submitted");
      // Not listed again.
      expect(host.vosCalls().filter((c) => c.startsWith("vls"))).toHaveLength(1);
    });

    it("a new image with the same pipeline queues nothing; a new pipeline queues all, keeping the old catalogues", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      await stored(...catsOf(IDS));
      const dir = await deliverRun("new-image");
      const image = await host.ssh(`bash canfar-batch/submit.sh --run-dir ${dir} --mode csv2 --image ${IMAGE}-b --dest ${DEST} --pipeline ${P}`);
      expect(image.code, image.stderr).toBe(0);
      expect(JSON.parse(image.stdout)).toMatchObject({ cluster: null, jobs: 0 });
      const pipeline = await submit(dir, "csv2", undefined, "", `--dest ${DEST} --pipeline ${OTHER_P}`);
      expect(pipeline.code, pipeline.stderr).toBe(0);
      expect(pipeline.stderr).toContain(`queued 4 of 4 (0 already catalogued by pipeline ${OTHER_P}, 0 in flight)`);
      expect(pipeline.stderr).toContain("4 of them have only another pipeline's catalogue");
      expect(JSON.parse(pipeline.stdout)).toMatchObject({ cluster: "1234", jobs: 4, pipeline: OTHER_P });
      expect((await host.ssh(`ls ${VOSPACE}/${BATCH_USER}/cats`)).stdout.trim().split("\n")).toEqual(catsOf(IDS));
    });

    it("makes a missing destination (vmkdir -p) and probes it with the jobs' certificate", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" }, { CADC_DOUBLE_REQUIRE_CERT: "1" });
      const dir = await deliverRun("made");
      await makeProxy(dir);
      const deep = `vos:${BATCH_USER}/new/deeper`;
      const r = await submit(dir, "csv2", undefined, "--proxy cadcproxy.pem --min-valid 60", `--dest ${deep} --pipeline ${P}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`destination ${deep} exists and is writable`);
      const proxy = `/home/${BATCH_USER}/${dir}/cadcproxy.pem`;
      expect(host.vosCalls().map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual(["vmkdir", "vcp", "vrm", "vls"].map((t) => `${t} --certfile ${proxy}`));
      // The probe is gone: the new container is empty.
      expect((await host.ssh(`ls -A ${VOSPACE}/${BATCH_USER}/new/deeper`)).stdout).toBe("");
    });

    it.each([
      ["cannot be made", { VMKDIR_DOUBLE_MODE: "fail" }, "does not exist and cannot be made with the jobs' certificate (vmkdir -p: ERROR:: 403 Forbidden"],
      ["is not writable", { VCP_DOUBLE_MODE: "fail" }, "is not writable with the jobs' certificate (vcp of a probe: ERROR:: [Errno 5] Input/output error)"],
      ["cannot be listed", { VLS_DOUBLE_MODE: "fail" }, "listing vos:batch/cats failed (vls: ERROR:: [Errno 104] Connection reset by peer)"],
    ])("a destination that %s: exit 18, nothing queued, no marker", async (_what, vos, message) => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" }, vos);
      await stored();
      const dir = await deliverRun(`dest-${Object.keys(vos)[0]}`);
      const r = await submit(dir, "csv2");
      expect(r.code).toBe(18);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("nothing was queued");
      expect(r.stdout).toBe("");
      expect(host.calls()).toEqual([]);
      expect((await host.ssh(`test -e ${dir}/.canfar-submitted || test -e ${dir}/queue.txt`)).code).not.toBe(0);
    });

    it("a local destination: made when missing, refused (18) when the user cannot write it", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      const dir = await deliverRun("local");
      const ok = await submit(dir, "csv2", undefined, "", `--dest /home/${BATCH_USER}/cats/new --pipeline ${P}`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain(`queued 4 of 4 (0 already catalogued by pipeline ${P}, 0 in flight)`);
      const denied = await submit(dir, "csv2", undefined, "", `--dest /root/cats --pipeline ${P}`);
      expect(denied.code).toBe(18);
      expect(denied.stderr).toMatch(/the destination \/root\/cats (is not a directory and cannot be made|is not writable)/);
    });

    it.each([
      ["--pipeline 3FA9", "--pipeline '3FA9': expected the pipeline's identity, 12 lowercase hex digits"],
      [`--pipeline ${P} --policy some`, "--policy 'some': expected changed, missing or all"],
      [`--pipeline ${P} --dest cats`, "--dest 'cats': expected vos:CONTAINER or an absolute local directory"],
      [`--pipeline ${P} --dest vos:a/../b`, "--dest 'vos:a/../b': expected vos:CONTAINER"],
      [`--pipeline ${P} --exposures ../x`, "--exposures '../x': expected a file name in the run dir"],
    ])("refuses %s before touching anything (exit 2)", async (args, message) => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      const dir = await deliverRun("bad-args");
      const r = await submit(dir, "csv2", undefined, "", `--dest ${DEST} ${args}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect([...host.calls(), ...host.vosCalls()]).toEqual([]);
    });

    it("refuses an exposures file with a bad or repeated ID, naming the line, and a submit file that lists its own IDs", async () => {
      await host.configure({ CANFAR_SUBMIT_VERSION: "csv2" });
      const bad = await deliverRun("bad-ids", undefined, [IDS[0], "1056216P", IDS[2]]);
      const r = await submit(bad, "csv2");
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--exposures /home/batch/runs/bad-ids/exposures.txt: line 2: '1056216P' is not a CFHT file id");
      const twice = await deliverRun("twice", undefined, [IDS[0], IDS[1], IDS[0]]);
      const t = await submit(twice, "csv2");
      expect(t.code).toBe(2);
      expect(t.stderr).toContain("line 3: 1056215p is listed twice (first on line 1)");
      const inline = await deliverRun("inline", "executable = do_catalogue.bash\nqueue arguments from (\n1056215p\n)\n");
      const i = await submit(inline, "csv2");
      expect(i.code).toBe(2);
      expect(i.stderr).toContain("do_catalogue.sub does not queue from queue.txt (expected a line 'queue arguments from queue.txt')");
      expect([...host.calls(), ...host.vosCalls()]).toEqual([]);
    });
  });
});
