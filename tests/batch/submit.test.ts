import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderSubmitFile } from "../../domain/submit-file";
import { missing } from "../support/requirements";
import { BATCH_USER, BatchHost } from "./batch-host";

const SUBMIT = resolve(__dirname, "../../provisioning/batch-host/submit.sh");
const CLI = resolve(__dirname, "../../provisioning/lib/cli.sh");
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
  }, 900_000);

  afterAll(async () => {
    await host?.cleanup();
    if (local !== undefined) rmSync(local, { recursive: true, force: true });
  });

  /** Delivers do_catalogue.bash and a do_catalogue.sub into ~/runs/NAME, as the program does. */
  async function deliverRun(name: string, sub = renderSubmitFile({ flavor: FLAVOR })): Promise<string> {
    const dir = `runs/${name}`;
    const subPath = join(local, `${name}.sub`);
    writeFileSync(subPath, sub);
    expect((await host.ssh(`mkdir -p ${dir}`)).code).toBe(0);
    await host.copy(PIPELINE, `${dir}/do_catalogue.bash`);
    await host.copy(subPath, `${dir}/do_catalogue.sub`);
    // The campaign's exposures, as the program delivers them beside the submit file.
    writeFileSync(join(local, `${name}.exposures`), `${IDS.join("\n")}\n`);
    await host.copy(join(local, `${name}.exposures`), `${dir}/exposures.txt`);
    return dir;
  }

  const submit = (dir: string, mode: "csv1" | "csv2" | "self-hosted", stdin?: string, extra = "") =>
    host.ssh(`bash canfar-batch/submit.sh --run-dir ${dir} --mode ${mode} --image ${IMAGE} ${mode === "csv1" ? `--flavor ${FLAVOR}` : ""} ${extra}`, stdin);

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
    expect(JSON.parse(r.stdout)).toEqual({ cluster: "1234", jobs: 4, runDir: `/home/${BATCH_USER}/${dir}` });
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

    await deliverRun("rerun", renderSubmitFile({ flavor: FLAVOR, requestCpus: 1 }));
    const changed = await submit(dir, "csv1", CREDENTIALS);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ cluster: "1235", jobs: 5 });
    expect(changed.stderr).toContain("content changed since cluster 1234 was submitted");
    expect(condorSubmits()).toHaveLength(2);
  });

  it("self-hosted: calls condor_submit with the submit file only, never canfar_submit, and reports the cluster once", async () => {
    await host.configure({});
    const dir = await deliverRun("self-hosted");
    const r = await submit(dir, "self-hosted", undefined, `--flavor ${FLAVOR}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ cluster: "1234", jobs: 4, runDir: `/home/${BATCH_USER}/${dir}` });
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
    // A new image is a new submission, though condor_submit never sees the image's name.
    const newImage = await host.ssh(`bash canfar-batch/submit.sh --run-dir ${dir} --mode self-hosted --image ${IMAGE}-b`);
    expect(newImage.code).toBe(0);
    expect(JSON.parse(newImage.stdout)).toMatchObject({ cluster: "1235" });
  });

  it("self-hosted: a condor_submit failure is quoted with exit 10 and leaves no marker", async () => {
    await host.configure({});
    const dir = await deliverRun("self-hosted-broken", "executable = do_catalogue.bash\n");
    const r = await submit(dir, "self-hosted");
    expect(r.code).toBe(10);
    expect(r.stderr).toContain("condor_submit failed (exit 1): ERROR: no queue statement");
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
    expect(JSON.parse(r.stdout)).toEqual({ cluster: "1234", jobs: 4, runDir: `/home/${BATCH_USER}/${dir}` });
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
    const dir = await deliverRun("requirements", `Requirements = true\n${renderSubmitFile({ flavor: FLAVOR })}`);
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
});
