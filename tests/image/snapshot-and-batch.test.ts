import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../offline/evaluate";
import { parseCreateOutput } from "../../image/snapshot";
import { credentialLines, credentialText, parseSubmitOutput } from "../../batch/batch-submission";
import { isSecretOutput, valueOf } from "../../offline/output-introspection";
import { VALID_RAW } from "../fixtures/stack-config";
import { evaluateProgram, one } from "../fixtures/evaluate-program";
import { deliveryName, RUN_DIR_FILES } from "../support/run-dir-files";

const LOCAL = "command:local:Command";
const REMOTE = "command:remote:Command";
const BATCH = {
  batchHost: "batch.canfar.net",
  openstackAuthUrl: "https://arbutus-canfar.cloud.computecanada.ca:5000/v3",
  openstackProjectName: "my-project",
  openstackProjectId: "0123456789abcdef0123456789abcdef",
};

function named(e: Evaluation, name: string) {
  const r = e.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}; have ${e.resources.map((x) => x.name).join(", ")}`);
  return r as typeof r & { inputs: Record<string, unknown> };
}
const dependsOn = (e: Evaluation, name: string, other: string) => named(e, name).dependencies.some((d) => d.endsWith(`::${other}`));
const contentHash = (e: Evaluation) => (named(e, "worker-image-image").inputs.environment as Record<string, string>).CONTENT_HASH;

describe("snapshot", () => {
  let e: Evaluation;
  beforeAll(async () => {
    e = await evaluateProgram(BATCH);
  });

  it("runs only after the pipeline smoke test, quiesces, then images", () => {
    expect(dependsOn(e, "worker-image-package-versions", "provision-smoke-test")).toBe(true);
    expect(dependsOn(e, "worker-image-copy-quiesce", "provision-smoke-test")).toBe(true);
    expect(dependsOn(e, "worker-image-package-versions", "worker-image-copy-package-versions")).toBe(true);
    expect(named(e, "worker-image-package-versions").inputs.create).toBe(
      "'bash' '/home/ubuntu/.canfar-batch/provisioning/package-versions.sh' 'source-extractor' 'libcfitsio-bin'",
    );
    expect(dependsOn(e, "worker-image-quiesce", "worker-image-package-versions")).toBe(true);
    expect(dependsOn(e, "worker-image-image", "worker-image-quiesce")).toBe(true);
  });

  it("is replaced only when the provisioned content or the name prefix changes; otherwise update reprints the old result", () => {
    const image = named(e, "worker-image-image");
    expect(image.inputs.triggers).toEqual([contentHash(e), "image-reduction"]);
    // The whole chain on the same trigger: quiesce only ever runs right before an image is made.
    for (const step of ["worker-image-copy-package-versions", "worker-image-package-versions", "worker-image-copy-quiesce", "worker-image-quiesce"]) {
      expect(named(e, step).inputs.triggers, step).toEqual(image.inputs.triggers);
    }
    expect(image.inputs.update).toBe(`printf '%s\\n' "$PULUMI_COMMAND_STDOUT"`);
    // make-image.sh names it PREFIX-<UTC date>-TAG and labels it with the content hash.
    expect(image.inputs.create).toContain(`bash provisioning/local/make-image.sh --server "$SERVER_ID" --prefix "$IMAGE_PREFIX" --tag "$CONTENT_TAG"`);
    expect(image.inputs.create).toContain(`--content "$CONTENT_HASH"`);
    expect(image.inputs.create).toContain(`--timeout "$TIMEOUT" --poll "$POLL"`);
    expect(image.inputs.environment).toMatchObject({ OS_CLOUD: "arbutus-canfar", IMAGE_PREFIX: "image-reduction", TIMEOUT: "1800" });
  });

  it("starts a stopped build VM whenever an SSH step may run again: new content, server, address or secret", () => {
    // The secret digest stays "[secret]": the fixture's secrets are plain values, not placeholders.
    expect(named(e, "provision-ensure-running").inputs.triggers).toEqual([contentHash(e), "build-server-id", "203.0.113.10", "[secret]"]);
  });

  it("keeps the image on destroy by default; told otherwise, deletes only the current image, only on destroy", async () => {
    expect(named(e, "worker-image-image").inputs.delete).toBeUndefined();
    expect(e.resources.some((r) => r.name === "worker-image-delete-on-destroy")).toBe(false);
    const dropping = await evaluateProgram({ ...BATCH, keepImageOnDestroy: "false" });
    // The image itself never deletes: a replaced image outlives its replacement (held jobs).
    expect(named(dropping, "worker-image-image").inputs.delete).toBeUndefined();
    const cleanup = named(dropping, "worker-image-delete-on-destroy");
    expect(cleanup.inputs.delete).toBe(`bash provisioning/local/delete-image.sh --image "$IMAGE_ID"`);
    expect(cleanup.inputs.environment).toMatchObject({ IMAGE_ID: "worker-image-image-id" });
    // Not replaced by a new image (no triggers): an update, which deletes nothing.
    expect(cleanup.inputs.triggers).toBeUndefined();
    expect(cleanup.inputs.update).not.toContain("delete-image");
  });

  it("deletes the build VM only when asked, once the image exists", async () => {
    expect(e.resources.some((r) => r.name === "worker-image-delete-build-vm")).toBe(false);
    const deleting = await evaluateProgram({ deleteBuildVmAfterSnapshot: "true" });
    const del = named(deleting, "worker-image-delete-build-vm");
    expect(dependsOn(deleting, "worker-image-delete-build-vm", "worker-image-image")).toBe(true);
    expect(del.inputs.triggers).toEqual(["worker-image-image-id", "build-server-id"]);
    expect(del.inputs.update).toBe("true");
  });
});

describe("image names", () => {
  it("are stable when nothing provisioned changed, whatever else did", async () => {
    const a = await evaluateProgram();
    const b = await evaluateProgram({ observationIds: JSON.stringify(["1056300p"]), sshIngressCidrs: JSON.stringify(["203.0.113.0/24"]), ...BATCH });
    expect(contentHash(b)).toBe(contentHash(a));
    expect(b.outputs.imageName).toBe(a.outputs.imageName);
  });

  it("change with anything that is provisioned", async () => {
    const base = contentHash(await evaluateProgram());
    const changes: Record<string, string>[] = [{ cadcUser: "other" }, { extraPackages: JSON.stringify(["htop"]) }, { flavor: "c4-15gb-83" }, { image: "canfar-ubuntu-22.04" }, { scratchDevice: "/dev/vdc" }];
    // One at a time: the SDK's runtime state is global to the process.
    const hashes: string[] = [];
    for (const c of changes) hashes.push(contentHash(await evaluateProgram(c)));
    for (const [i, h] of hashes.entries()) expect(h, JSON.stringify(changes[i])).not.toBe(base);
    expect(new Set(hashes).size).toBe(changes.length);
  });
});

describe("batch submission", () => {
  let e: Evaluation;
  beforeAll(async () => {
    e = await evaluateProgram(BATCH);
  });

  it("submits from the batch host only once the image is active, after delivering the run directory", () => {
    expect(dependsOn(e, "batch-submit", "worker-image-image")).toBe(true);
    for (const f of RUN_DIR_FILES.map(deliveryName)) {
      expect(dependsOn(e, "batch-submit", f), f).toBe(true);
      expect(dependsOn(e, "batch-certificate", f), f).toBe(true);
    }
    // The jobs' certificate is made before anything is queued, and again for each run directory.
    expect(dependsOn(e, "batch-submit", "batch-certificate")).toBe(true);
    expect(named(e, "batch-certificate").inputs.triggers).toEqual(named(e, "batch-submit").inputs.triggers);
    const submit = named(e, "batch-submit");
    expect(submit.inputs.create).toMatch(
      /^bash 'canfar-batch\/runs\/dev-[0-9a-f]{12}\/submit.sh' --run-dir 'canfar-batch\/runs\/dev-[0-9a-f]{12}' --mode csv1 --image 'image-reduction-YYYY-MM-DD-[0-9a-f]{10}' --flavor 'c2-7.5gb-30' --proxy cadcproxy.pem --min-valid 172800 --dest 'vos:astronomer\/catalogues' --pipeline [0-9a-f]{12} --policy changed --exposures exposures.txt --per-job 4$/,
    );
  });

  it("passes the OpenStack credentials for csv1 only as a secret on stdin", () => {
    expect(named(e, "batch-submit").inputs.stdin).toBe("[secret]");
    expect(named(e, "batch-certificate").inputs.stdin).toBe("[secret]");
    expect(JSON.stringify(e)).not.toContain(VALID_RAW.cadcPassword);
  });

  it("delivers the campaign's exposures and a submit file that queues what submit.sh chose, with the destination, pipeline and image", () => {
    expect(named(e, "batch-deliver-exposures-txt").inputs.stdin).toBe("1056215p\n1056216p\n1056217p\n1056218p\n");
    const sub = String(named(e, "batch-deliver-do-catalogue-sub").inputs.stdin);
    expect(sub).toContain("executable = do_catalogue.bash");
    expect(sub).toContain("\nqueue arguments from queue.txt\n");
    expect(sub).not.toContain("1056215p");
    const pipeline = String(e.outputs.pipelineIdentity);
    expect(pipeline).toMatch(/^[0-9a-f]{12}$/);
    expect(named(e, "batch-submit").inputs.create).toContain(`--pipeline ${pipeline} `);
    expect(sub).toContain(`environment = "CATALOGUE_DEST='vos:astronomer/catalogues' CATALOGUE_PIPELINE='${pipeline}' CATALOGUE_IMAGE='${String(e.outputs.imageName)}'"`);
    expect(sub).not.toMatch(/Requirements|\+VMAMI|\+VMInstanceType/);
  });

  it("exports the cluster, the run directory and how to follow it", () => {
    expect(e.outputs).toMatchObject({ clusterId: "0", catalogueDestination: "vos:astronomer/catalogues" });
    expect(e.outputs.followCommand).toMatch(/^ssh astronomer@batch.canfar.net bash canfar-batch\/runs\/dev-[0-9a-f]{12}\/follow.sh 0$/);
    expect(e.outputs.campaignCommand).toMatch(/^ssh astronomer@batch.canfar.net bash canfar-batch\/runs\/dev-[0-9a-f]{12}\/campaign.sh$/);
  });

  it("submits again only when IDs, image or script change: the run directory is their hash", async () => {
    const same = await evaluateProgram({ ...BATCH, sshIngressCidrs: JSON.stringify(["203.0.113.0/24"]) });
    const otherIds = await evaluateProgram({ ...BATCH, observationIds: JSON.stringify(["1056300p"]) });
    const trig = (x: Evaluation) => named(x, "batch-submit").inputs.triggers;
    expect(trig(same)).toEqual(trig(e));
    expect(trig(otherIds)).not.toEqual(trig(e));
  });

  it("csv2 calls canfar_submit JOB IMAGE, with nothing on stdin", async () => {
    const csv2 = await evaluateProgram({ batchHost: "batch.canfar.net", submitMode: "csv2" });
    const submit = named(csv2, "batch-submit");
    expect(submit.inputs.create).toMatch(/--mode csv2 --image '[^']+' --proxy cadcproxy.pem --min-valid 172800 --dest /);
    expect(String(named(csv2, "batch-deliver-do-catalogue-sub").inputs.stdin)).toMatch(/\n\+VMImage = "image-reduction-YYYY-MM-DD-[0-9a-f]{10}"\n/);
    expect(submit.inputs.stdin).toBeUndefined();
  });
});

describe("reading the scripts' answers", () => {
  it("accepts create-image.sh's JSON line and refuses anything else", () => {
    expect(parseCreateOutput('waiting\n{"id": "abc", "name": "image-reduction-2026-11-24-0123456789", "status": "active"}\n')).toEqual({
      id: "abc",
      name: "image-reduction-2026-11-24-0123456789",
      status: "active",
    });
    expect(() => parseCreateOutput('{"id": "abc", "name": "x", "status": "saving"}')).toThrow(/expected \{id, name, status: "active"\}/);
    expect(() => parseCreateOutput("")).toThrow(/expected one JSON line/);
  });

  it("accepts submit.sh's JSON line, a null cluster only with no job, and refuses anything else", () => {
    const line = { cluster: "1234", jobs: 2, total: 6, done: 4, pipeline: "3fa9c0d21b7e", runDir: "/home/u/r" };
    expect(parseSubmitOutput(`queued 2 of 6\n${JSON.stringify(line)}\n`)).toEqual(line);
    const none = { ...line, cluster: null, jobs: 0, done: 6 };
    expect(parseSubmitOutput(JSON.stringify(none))).toEqual(none);
    // submit.sh's line also counts the exposures in flight in earlier clusters: read past, not refused.
    expect(parseSubmitOutput('{"cluster": "1234", "jobs": 2, "total": 6, "done": 1, "inFlight": 3, "pipeline": "3fa9c0d21b7e", "runDir": "/home/u/r"}')).toEqual({ ...line, done: 1 });
    for (const bad of [{ ...line, cluster: null }, { ...line, cluster: undefined }, { ...line, jobs: -1 }, { ...line, total: "6" }, { ...line, pipeline: "3FA9C0D21B7E" }, { ...line, runDir: 1 }]) {
      expect(() => parseSubmitOutput(JSON.stringify(bad)), JSON.stringify(bad)).toThrow(/expected \{cluster \(digits, or null when no job was queued\), jobs, total, done, pipeline, runDir\}/);
    }
    expect(() => parseSubmitOutput("null")).toThrow(/expected \{cluster/);
  });

  it("exports clusterId none and the campaign view as the follow command when nothing was queued", async () => {
    const idle = await evaluateProgram(BATCH, { mocks: { remoteStdout: (create) => (create.includes("submit.sh") ? `${JSON.stringify({ cluster: null, jobs: 0, total: 4, done: 4, pipeline: /--pipeline (\w+)/.exec(create)?.[1], runDir: "r" })}\n` : undefined) } });
    expect(idle.outputs.clusterId).toBe("none");
    expect(idle.outputs.followCommand).toBe(idle.outputs.campaignCommand);
  });
});

describe("canfar_submit credentials", () => {
  const base = { authUrl: "https://k:5000/v3", projectName: "p", projectId: "0123456789abcdef0123456789abcdef", username: "astronomer" };

  it("are KEY=VALUE lines, secret as a whole, with the user domain only when set", async () => {
    const out = credentialLines({ ...base, password: "pw$1" });
    expect(await isSecretOutput(out)).toBe(true);
    expect(await valueOf(out)).toBe(
      "OS_AUTH_URL=https://k:5000/v3\nOS_PROJECT_ID=0123456789abcdef0123456789abcdef\nOS_PROJECT_NAME=p\nOS_USERNAME=astronomer\nOS_PASSWORD=pw$1\n",
    );
    expect(await valueOf(credentialLines({ ...base, userDomainName: "CCDB", password: "x" }))).toContain("OS_USERNAME=astronomer\nOS_USER_DOMAIN_NAME=CCDB\n");
  });

  // On the plain function: a rejected Output also rejects promises inside the SDK nobody awaits.
  it("refuse a line break that would smuggle in another variable", () => {
    expect(() => credentialText({ ...base, password: "x\nOS_AUTH_URL=https://evil" })).toThrow(
      "Error writing canfar_submit credentials: OS_PASSWORD contains a line break",
    );
  });
});

describe("the stack without a batch host", () => {
  it("builds the image and submits nothing", async () => {
    const e = await evaluateProgram();
    expect(e.resources.filter((r) => r.type === REMOTE && r.name.startsWith("batch-"))).toEqual([]);
    expect(one(e, "canfar:index:Snapshot").name).toBe("worker-image");
    expect(e.resources.filter((r) => r.type === LOCAL).map((r) => r.name)).toEqual(["build-host-key-generate", "build-base-image", "provision-ensure-running", "worker-image-image"]);
  });
});
