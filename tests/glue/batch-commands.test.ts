import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialLines, parseSubmitOutput } from "../../batch/batch-submission";
import { BATCH_USER, BatchHost, DOUBLE_STATE, VOSPACE } from "../batch/batch-host";
import { evaluateProgram } from "../fixtures/evaluate-program";
import { VALID_RAW } from "../fixtures/stack-config";
import { missing } from "../support/requirements";
import { declaredBatch, followRemoteCommand, type DeclaredBatch } from "../../harness/declared-batch";
import { assertPlain, declaredCommand, keptStdout, type DeclaredCommand } from "../../harness/declared-command";
import { resolveSecret } from "./resolve-secret";
import { cadcGetCertDouble } from "../../harness/cadc-get-cert-double";
import { writeRootFile } from "../../harness/root-files";
import { deliveryName, RUN_DIR_FILES } from "../support/run-dir-files";

// The batch-submission commands exactly as index.ts declares them, run over real SSH on
// 127.0.0.1 as remote.Command runs them (the string as the remote command, stdin piped)
// against a stand-in batch host whose canfar_submit / condor_* are doubles.
const BATCH = {
  batchHost: "batch.canfar.net",
  openstackAuthUrl: "https://arbutus-canfar.cloud.computecanada.ca:5000/v3",
  openstackProjectName: "my-project",
  openstackProjectId: "0123456789abcdef0123456789abcdef",
  openstackUserDomainName: "CCDB",
};
// As hostile as the config lets a CADC password be (no white space, quotes or backslash):
// a shell that evaluated it, or a log that kept it, would show.
const PASSWORD = "pa$(id)`date`!#x;&|<y>*";
// The tutorial's four exposures: one job of four with the default canfar:exposuresPerJob (4).
const FOUR = ["1056215p", "1056216p", "1056217p", "1056218p"];
/** Where the batch host's VOSpace stand-in keeps canfar:vospace, vos:astronomer/catalogues. */
const CATALOGUES = `${VOSPACE}/astronomer/catalogues`;
const FLAVOR = "c2-7.5gb-30";

const why = missing({ commands: ["debootstrap", "unshare", "nsenter", "chroot", "ssh", "ssh-keygen"], root: true });

describe.skipIf(why)("the batch-submission commands, as declared, over real SSH to a stand-in batch host", () => {
  let host: BatchHost;
  let csv1: DeclaredBatch;
  let csv2: DeclaredBatch;
  let credentials: string;

  beforeAll(async () => {
    csv1 = declaredBatch(await evaluateProgram({ ...BATCH, cadcPassword: PASSWORD }));
    csv2 = declaredBatch(await evaluateProgram({ batchHost: BATCH.batchHost, submitMode: "csv2", cadcPassword: PASSWORD }));
    credentials = await resolveSecret(() =>
      credentialLines({
        authUrl: BATCH.openstackAuthUrl,
        projectName: BATCH.openstackProjectName,
        projectId: BATCH.openstackProjectId,
        username: VALID_RAW.cadcUser ?? "",
        userDomainName: BATCH.openstackUserDomainName,
        password: PASSWORD,
      }),
    );
    host = await BatchHost.start();
    // CADC's certificate service, standing in: it answers only the stack's CADC login.
    await writeRootFile(host.root, "/usr/local/bin/cadc-get-cert", cadcGetCertDouble({ user: VALID_RAW.cadcUser ?? "", password: PASSWORD }), "755");
  }, 900_000);

  afterAll(async () => {
    await host?.cleanup();
  });

  const home = (path: string) => host.root.path(`/home/${BATCH_USER}/${path}`);
  const condorSubmits = () => host.calls().filter((c) => c.startsWith("condor_submit"));

  /** Runs the declared command over SSH: its `create` as the remote command, its stdin as declared or given. */
  const run = (cmd: DeclaredCommand, stdin = cmd.stdin) => host.ssh(assertPlain(cmd.create, cmd.name), stdin === undefined ? undefined : assertPlain(stdin, `${cmd.name} stdin`));

  /** A batch host with no earlier run and the given canfar_submit scenario, then the program's deliveries and the jobs' certificate. */
  async function freshRun(d: DeclaredBatch, scenario: Record<string, string>): Promise<void> {
    await host.configure(scenario);
    expect((await host.ssh("rm -rf canfar-batch /tmp/cadc-get-cert.calls /tmp/cadc-get-cert.ps")).code).toBe(0);
    for (const deliver of d.deliveries) {
      const r = await run(deliver);
      expect(r.stderr, deliver.name).toBe("");
      expect(r.code, deliver.name).toBe(0);
    }
    const cert = await run(d.certificate, `${PASSWORD}\n`);
    expect(cert.code, cert.stderr).toBe(0);
  }

  it("declares fifteen deliveries (the scripts, the pipeline's parts, the libraries they source, the submit file, the campaign's exposures) with plain stdin, a certificate step with the password as secret stdin and, for csv1 only, a secret stdin for submit", () => {
    for (const d of [csv1, csv2]) {
      expect(d.deliveries.map((x) => x.name).sort()).toEqual(RUN_DIR_FILES.map(deliveryName).sort());
      for (const x of d.deliveries) expect(x.stdin, x.name).toMatch(/\S/);
      expect(d.certificate.stdin).toBe("[secret]");
      expect(d.certificate.create).toBe(`bash '${d.runDir}/cadc-credentials.sh' --user '${VALID_RAW.cadcUser}' --cert-days 10 --cert-only '${d.runDir}/cadcproxy.pem'`);
    }
    expect(csv1.submit.stdin).toBe("[secret]");
    expect(csv2.submit.stdin).toBeUndefined();
    expect(csv1.runDir).not.toBe(csv2.runDir);
    expect(credentials).toContain(`OS_PASSWORD=${PASSWORD}\n`);
  });

  it("the deliver commands leave exactly the declared files, private to the batch user, and can run again", async () => {
    await freshRun(csv1, {});
    const check = () => {
      expect(readdirSync(home(csv1.runDir)).sort()).toEqual([...RUN_DIR_FILES, "cadcproxy.pem"].sort());
      for (const deliver of csv1.deliveries) {
        const file = /\/([^/']+)'$/.exec(deliver.create)?.[1] ?? "";
        expect(RUN_DIR_FILES, deliver.name).toContain(file);
        expect(readFileSync(join(home(csv1.runDir), file), "utf8"), file).toBe(deliver.stdin);
        expect(statSync(join(home(csv1.runDir), file)).mode & 0o077, file).toBe(0);
      }
      expect(statSync(home(csv1.runDir)).mode & 0o077).toBe(0);
    };
    check();
    const sub = csv1.deliveries.find((x) => x.name === "batch-deliver-do-catalogue-sub");
    expect(sub?.stdin).toContain("\nqueue arguments from queue.txt\n");
    expect(csv1.deliveries.find((x) => x.name === "batch-deliver-exposures-txt")?.stdin).toBe(`${FOUR.join("\n")}\n`);
    // A replacement re-runs every delivery into the existing directory.
    for (const deliver of csv1.deliveries) expect((await run(deliver)).code).toBe(0);
    check();
  });

  it("csv1: submit gets the password to canfar_submit only through its environment, prints the cluster, does not submit twice, and the exported follow command follows it", async () => {
    await freshRun(csv1, {
      CANFAR_SUBMIT_VERSION: "csv1",
      CANFAR_DOUBLE_IMAGES: `${csv1.image} canfar-ubuntu-20.04`,
      // canfar_submit authenticates only with this password: success proves it arrived intact.
      CANFAR_DOUBLE_PASSWORD_SHA256: createHash("sha256").update(PASSWORD).digest("hex"),
    });
    const r = await run(csv1.submit, credentials);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const result = parseSubmitOutput(keptStdout(r.stdout));
    expect(result).toEqual({ cluster: "1234", jobs: 1, total: 4, done: 0, pipeline: csv1.pipeline, runDir: `/home/${BATCH_USER}/${csv1.runDir}` });

    const calls = host.calls();
    expect(calls).toContain(`canfar_submit do_catalogue.sub ${csv1.image} ${FLAVOR}`);
    expect(calls).toContain(
      `canfar_submit env: OS_AUTH_URL=${BATCH.openstackAuthUrl} OS_PROJECT_ID=${BATCH.openstackProjectId} ` +
        `OS_PROJECT_NAME=${BATCH.openstackProjectName} OS_USERNAME=${VALID_RAW.cadcUser} ` +
        `OS_USER_DOMAIN_NAME=${BATCH.openstackUserDomainName} ` +
        `OS_PASSWORD_SHA256=${createHash("sha256").update(PASSWORD).digest("hex")}`,
    );
    expect(calls).not.toContain("canfar_submit PASSWORD-IN-ARGV");
    expect(condorSubmits()).toHaveLength(1);
    // condor_submit got the submit file the program declared, behind the lines csv1 prepends.
    const sub = csv1.deliveries.find((x) => x.name === "batch-deliver-do-catalogue-sub")?.stdin ?? "";
    const submitted = readFileSync(host.root.path(`${DOUBLE_STATE}/submitted-1234.sub`), "utf8");
    expect(submitted.endsWith(sub)).toBe(true);
    // canfar_job_validate's lines: the worker VM type is PROJECT:IMAGE, image and flavor by ID.
    expect(submitted).toContain(`Requirements = VMType =?= "${BATCH.openstackProjectName}:${csv1.image}" && Arch == "x86_64"\n`);
    expect(submitted).toMatch(/^\+VMAMI {10}= "canfar:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/m);

    const runFiles = await host.ssh(`cat ${csv1.runDir}/.canfar-submitted ${csv1.runDir}/*`);
    for (const text of [r.stdout, r.stderr, host.doubleFiles(), runFiles.stdout]) expect(text).not.toContain(PASSWORD);

    // An update of the resource (no `update` declared: create runs again) submits nothing new.
    const again = await run(csv1.submit, credentials);
    expect(again.code).toBe(0);
    expect(parseSubmitOutput(keptStdout(again.stdout))).toEqual(result);
    expect(again.stderr).toContain("already submitted as cluster 1234");
    expect(condorSubmits()).toHaveLength(1);
    expect(host.calls().filter((c) => c.startsWith("canfar_submit do_catalogue.sub"))).toHaveLength(1);

    // The exported follow command, with the real cluster, runs the delivered follow.sh.
    const follow = followRemoteCommand(csv1, `ssh ${VALID_RAW.cadcUser}@${BATCH.batchHost} `, result.cluster ?? "none");
    expect(follow).toBe(`bash ${csv1.runDir}/follow.sh 1234`);
    writeFileSync(host.root.path(`${DOUBLE_STATE}/history.1`), "0 4 0\n1 4 0\n2 4 0\n3 4 0\n");
    const followed = await host.ssh(follow);
    expect(followed.stderr).toBe("");
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain("cluster 1234: all 4 job(s) done, exit code 0");
  });

  it("the certificate step leaves the jobs' certificate (600) in the run directory, named by the submit file, and no password on the batch host", async () => {
    await freshRun(csv2, { CANFAR_SUBMIT_VERSION: "csv2" });
    const pem = home(`${csv2.runDir}/cadcproxy.pem`);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect((await host.ssh(`openssl x509 -checkend ${9 * 86_400} -noout -in ${csv2.runDir}/cadcproxy.pem`)).code).toBe(0);
    expect(csv2.deliveries.find((x) => x.name === "batch-deliver-do-catalogue-sub")?.stdin).toContain("\nx509userproxy = cadcproxy.pem\n");
    expect(readdirSync(home(""))).not.toContain(".netrc");
    const leaked = await host.root.run(["grep", "-rlF", "--", PASSWORD, `/home/${BATCH_USER}`, "/tmp", "/var/tmp"]);
    expect(leaked.stdout).toBe("");
    expect(readFileSync(host.root.path("/tmp/cadc-get-cert.ps"), "utf8")).not.toContain(PASSWORD);
    // The submission checks it against the run's expected length, then queues.
    expect(csv2.submit.create).toContain(" --proxy cadcproxy.pem --min-valid 172800");
    const r = await run(csv2.submit);
    expect(r.stderr).toContain("proxy certificate cadcproxy.pem valid until");
    expect(r.code).toBe(0);
  });

  it("self-hosted: the declared commands submit with condor_submit on the submit node, and a worker's delete drains it there", async () => {
    const e = await evaluateProgram(
      { batchSystem: "self-hosted", workerCount: "1", poolPassword: "pool-secret-Zx9vQ2mT7kLp4rW8yB3nC6dF", cadcPassword: PASSWORD },
      { secretKeys: ["canfar:cadcPassword", "canfar:sshPrivateKey", "canfar:poolPassword"], drop: ["batchHostKey"] },
    );
    const pool = declaredBatch(e);
    await freshRun(pool, {});
    const r = await run(pool.submit);
    expect(r.code, r.stderr).toBe(0);
    expect(parseSubmitOutput(keptStdout(r.stdout))).toEqual({ cluster: "1234", jobs: 1, total: 4, done: 0, pipeline: pool.pipeline, runDir: `/home/${BATCH_USER}/${pool.runDir}` });
    expect(condorSubmits()).toEqual(["condor_submit do_catalogue.sub"]);
    expect(host.calls().filter((c) => c.startsWith("canfar_submit"))).toEqual([]);
    expect(r.stderr).toContain("proxy certificate cadcproxy.pem valid until");

    // The drain script staged as declared; the worker's delete runs it against HTCondor's tools.
    // HTCondor's tools as drain-worker.sh meets them on a submit node: the worker's slot is in
    // the collector until condor_drain was called, then gone. It runs as root (sudo -n).
    await writeRootFile(host.root, "/etc/sudoers.d/batch", `${BATCH_USER} ALL=(root) NOPASSWD: ALL\n`, "440");
    await writeRootFile(host.root, "/usr/local/bin/condor_config_val", "#!/bin/sh\necho 10.0.0.20\n", "755");
    await writeRootFile(host.root, "/usr/local/bin/condor_token_create", "#!/bin/sh\necho token-for-test\n", "755");
    await writeRootFile(host.root, "/usr/local/bin/condor_drain", '#!/bin/sh\necho "condor_drain $*" >> /tmp/condor_drain.calls\n', "755");
    await writeRootFile(host.root, "/usr/local/bin/condor_q", "#!/bin/sh\nexit 0\n", "755");
    await writeRootFile(
      host.root,
      "/usr/local/bin/condor_status",
      '#!/bin/sh\n[ -e /tmp/condor_drain.calls ] || echo "slot1@w Unclaimed Idle <10.0.0.21:9618>"\n',
      "755",
    );
    const staged = declaredCommand(e, "pool-workers-stage-drain");
    expect((await run(staged)).code).toBe(0);
    const drain = declaredCommand(e, "pool-workers-0-drain");
    expect((await run(drain)).code).toBe(0);
    const drained = await host.ssh(assertPlain(drain.delete ?? "", `${drain.name} delete`));
    expect(drained.code, drained.stderr).toBe(0);
    expect(drain.delete).toMatch(/^sudo -n bash /);
    expect(readFileSync(host.root.path("/tmp/condor_drain.calls"), "utf8")).toBe("condor_drain -graceful -exit-on-completion -reason scale-down by canfar-batch <10.0.0.21:9618>\n");
    expect(drained.stderr).toContain("is drained and has left the pool");
  });

  it("csv2: the declared submit, with no stdin, calls canfar_submit JOB IMAGE", async () => {
    await freshRun(csv2, { CANFAR_SUBMIT_VERSION: "csv2" });
    const r = await run(csv2.submit);
    expect(r.code).toBe(0);
    expect(parseSubmitOutput(keptStdout(r.stdout))).toEqual({ cluster: "1234", jobs: 1, total: 4, done: 0, pipeline: csv2.pipeline, runDir: `/home/${BATCH_USER}/${csv2.runDir}` });
    expect(host.calls()).toContain(`canfar_submit do_catalogue.sub ${csv2.image}`);
    expect(condorSubmits()).toHaveLength(1);
    // The program's submit file names the image itself; csv2 adds only its group requirement.
    const submitted = readFileSync(host.root.path(`${DOUBLE_STATE}/submitted-1234.sub`), "utf8");
    expect(submitted.match(/^\+VMImage = .*$/gm)).toEqual([`+VMImage = "${csv2.image}"`]);
    expect(submitted).toContain('Requirements = group_name =?= "canfar" && Arch == "x86_64"\n');
  });

  it("a campaign converges: every exposure catalogued by the pipeline queues nothing (clusterId none), two added queue two, one listing each, and the campaign command runs", async () => {
    await freshRun(csv2, { CANFAR_SUBMIT_VERSION: "csv2" });
    await host.root.runOk(["rm", "-rf", CATALOGUES]);
    await host.root.runOk(["install", "-d", "-m", "755", "-o", BATCH_USER, "-g", BATCH_USER, CATALOGUES]);
    for (const id of FOUR) await writeRootFile(host.root, `${CATALOGUES}/${id}.${csv2.pipeline}.cat`, `# canfar-batch exposure: ${id}\n`, "644", `${BATCH_USER}:${BATCH_USER}`);
    // The other tests' destination has no catalogue: every exposure is queued there.
    onTestFinished(() => host.root.runOk(["sh", "-c", 'rm -f -- "$1"/*.cat', "clean", CATALOGUES]).then(() => undefined));
    const nothing = await run(csv2.submit);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(parseSubmitOutput(keptStdout(nothing.stdout))).toEqual({ cluster: null, jobs: 0, total: 4, done: 4, pipeline: csv2.pipeline, runDir: `/home/${BATCH_USER}/${csv2.runDir}` });
    expect(nothing.stderr).toContain(`queued 0 of 4 (4 already catalogued by pipeline ${csv2.pipeline}, 0 in flight)`);
    expect(condorSubmits()).toEqual([]);
    const listings = () => host.vosCalls().filter((c) => c.startsWith("vls ")).length;
    expect(listings()).toBe(1);

    // The stack with two more exposures: a new run directory, where only those two are queued.
    const six = declaredBatch(await evaluateProgram({ batchHost: BATCH.batchHost, submitMode: "csv2", cadcPassword: PASSWORD, observationIds: JSON.stringify([...FOUR, "1056219p", "1056220p"]) }));
    expect(six.runDir).not.toBe(csv2.runDir);
    expect(six.pipeline).toBe(csv2.pipeline);
    for (const deliver of six.deliveries) expect((await run(deliver)).code, deliver.name).toBe(0);
    expect((await run(six.certificate, `${PASSWORD}\n`)).code).toBe(0);
    const two = await run(six.submit);
    expect(two.code, two.stderr).toBe(0);
    expect(parseSubmitOutput(keptStdout(two.stdout))).toMatchObject({ cluster: "1234", jobs: 1, total: 6, done: 4 });
    // One job of the two new exposures: canfar:exposuresPerJob is 4 by default.
    expect(readFileSync(home(`${six.runDir}/queue.txt`), "utf8")).toBe("1056219p 1056220p\n");
    expect(condorSubmits()).toHaveLength(1);
    expect(listings()).toBe(2);

    // The exported campaign command: its remote part, as the user pastes it.
    const prefix = `ssh ${VALID_RAW.cadcUser}@${BATCH.batchHost} `;
    expect(six.campaignCommand.startsWith(prefix)).toBe(true);
    const view = await host.ssh(six.campaignCommand.slice(prefix.length));
    expect(view.code, view.stderr).toBe(0);
    expect(view.stdout).toContain(`6 exposures, pipeline ${csv2.pipeline}`);
  });

  it("the csv1 command on a csv2 host fails with exit 11 explaining the usage-and-exit-0 trap", async () => {
    await freshRun(csv1, { CANFAR_SUBMIT_VERSION: "csv2" });
    const r = await run(csv1.submit, credentials);
    expect(r.code).toBe(11);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("canfar_submit printed its usage and exited 0: nothing was submitted");
    expect(r.stderr).toContain("set the mode to csv2");
    expect(condorSubmits()).toEqual([]);
    const listings = () => host.vosCalls().filter((c) => c.startsWith("vls ")).length;
    expect(listings()).toBe(1);
    expect((await host.ssh(`test -e ${csv1.runDir}/.canfar-submitted`)).code).not.toBe(0);
    expect(() => parseSubmitOutput(keptStdout(r.stdout))).toThrow(/expected one JSON line/);
  });

  it("csv1 quota exceeded fails with submit.sh's exit 12, quoting canfar_submit, and writes no marker", async () => {
    await freshRun(csv1, { CANFAR_SUBMIT_VERSION: "csv1", CANFAR_DOUBLE_IMAGES: csv1.image, CANFAR_DOUBLE_FAIL: "quota" });
    const r = await run(csv1.submit, credentials);
    expect(r.code).toBe(12);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Quota exceeded for resources: ['image_members']");
    expect(condorSubmits()).toEqual([]);
    const listings = () => host.vosCalls().filter((c) => c.startsWith("vls ")).length;
    expect(listings()).toBe(1);
    expect((await host.ssh(`test -e ${csv1.runDir}/.canfar-submitted`)).code).not.toBe(0);
  });
});
