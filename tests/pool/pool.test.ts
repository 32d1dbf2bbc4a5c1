import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config-error";
import { CANFAR_ONLY_KEYS } from "../../config/batch-system-keys";
import { HTCONDOR_PORT } from "../../pool/user-data";
import { DRAIN_TIMEOUT_SECONDS } from "../../pool/worker-group";
import type { Evaluation } from "../../offline/evaluate";
import type { PlannedResource } from "../../offline/capture";
import { evaluateProgram, ofType, one } from "../fixtures/evaluate-program";

const INSTANCE = "openstack:compute/instance:Instance";
const PORT = "openstack:networking/port:Port";
const ASSOC = "openstack:networking/floatingIpAssociate:FloatingIpAssociate";
const RULE = "openstack:networking/secGroupRule:SecGroupRule";
const REMOTE = "command:remote:Command";
const POOL_PASSWORD = "pool-secret-Zx9vQ2mT7kLp4rW8yB3nC6dF";
const SECRET_KEYS = ["canfar:cadcPassword", "canfar:sshPrivateKey", "canfar:poolPassword"];

/** The dev fixture as a self-hosted pool of `workers` (the batch host's key dropped: refused there). */
function selfHosted(workers: number, extra: Record<string, string> = {}): Promise<Evaluation> {
  return evaluateProgram(
    { batchSystem: "self-hosted", workerCount: String(workers), poolPassword: POOL_PASSWORD, submitNodeFlavor: "p2-3gb", ...extra },
    { secretKeys: SECRET_KEYS, drop: ["batchHostKey"] },
  );
}

const workerServers = (e: Evaluation) => ofType(e, INSTANCE).filter((r) => r.name.startsWith("pool-workers-"));
const drains = (e: Evaluation) => ofType(e, REMOTE).filter((r) => /^pool-workers-\d+-drain$/.test(r.name));
const inputs = (r: PlannedResource) => r.inputs as Record<string, unknown>;
const short = (urns: readonly string[]) => urns.map((u) => u.split("::").pop());

describe("a self-hosted pool of three workers", () => {
  let e: Evaluation;
  beforeAll(async () => {
    e = await selfHosted(3);
  });

  it("declares three workers, <prefix>-worker-<i>, from the worker image and workerFlavor", () => {
    const servers = workerServers(e);
    expect(servers.map((s) => inputs(s).name)).toEqual(["canfar-batch-dev-worker-0", "canfar-batch-dev-worker-1", "canfar-batch-dev-worker-2"]);
    for (const s of servers) {
      expect(inputs(s)).toMatchObject({ imageId: "worker-image-image-id", flavorName: "c2-7.5gb-30" });
      expect(s.options).toMatchObject({ deleteBeforeReplace: true, replaceOnChanges: ["imageId", "flavorName"], ignoreChanges: ["powerState"] });
    }
  });

  it("boots the submit node from the worker image with submitNodeFlavor, the stack's key pair and a pinned host key", () => {
    const node = ofType(e, INSTANCE).find((r) => r.name === "pool-submit-server");
    expect(node && inputs(node)).toMatchObject({ name: "canfar-batch-dev-submit", imageId: "worker-image-image-id", flavorName: "p2-3gb", keyPair: "canfar-batch-dev-key", networks: [{ port: "pool-submit-access-port-id" }] });
    expect(node?.options).toMatchObject({ deleteBeforeReplace: true, replaceOnChanges: ["flavorName"], ignoreChanges: ["powerState", "imageId"] });
    const submit = ofType(e, REMOTE).find((r) => r.name === "batch-submit");
    expect(submit?.dependencies).toEqual(expect.arrayContaining([expect.stringMatching(/::pool-submit-host-key-generate$/)]));
  });

  it("keeps the pool secret secret: every pool member's user-data is a Pulumi secret, and the password is in no input or output", () => {
    const members = ofType(e, INSTANCE).filter((r) => r.name.startsWith("pool-"));
    expect(members).toHaveLength(4);
    // `[secret <digest>]` where the offline stand-in host key is inside (the submit node's).
    for (const m of members) expect(inputs(m).userData, m.name).toMatch(/^\[secret( [0-9a-f]{12})?\]$/);
    // Inputs and outputs as the engine would store them. (redactedInputs is the render's view,
    // which shows a secret with only its offline placeholders masked: the render reads
    // placeholders for every secret, and tests/render proves no secret reaches its files.)
    expect(JSON.stringify([e.resources.map((r) => r.inputs), e.outputs])).not.toContain(POOL_PASSWORD);
  });

  it("gives no worker a floating IP, and only the pool's group on its port", () => {
    const assocPorts = ofType(e, ASSOC).map((a) => inputs(a).portId);
    expect(assocPorts.sort()).toEqual(["access-port-id", "pool-submit-access-port-id"]);
    const workerPorts = ofType(e, PORT).filter((p) => p.name.startsWith("pool-workers-"));
    expect(workerPorts).toHaveLength(3);
    for (const p of workerPorts) expect(inputs(p).securityGroupIds).toEqual(["pool-network-group-id"]);
    const submitPort = one({ ...e, resources: ofType(e, PORT).filter((p) => p.name === "pool-submit-access-port") }, PORT);
    expect(submitPort.inputs.securityGroupIds).toEqual(["pool-submit-access-ssh-id", "pool-network-group-id"]);
  });

  it("lets the pool's members reach each other's HTCondor port and nothing else", () => {
    const poolRules = ofType(e, RULE).filter((r) => inputs(r).securityGroupId === "pool-network-group-id");
    expect(poolRules.map(inputs)).toEqual([
      expect.objectContaining({ direction: "ingress", ethertype: "IPv4", protocol: "tcp", portRangeMin: HTCONDOR_PORT, portRangeMax: HTCONDOR_PORT, remoteGroupId: "pool-network-group-id" }),
    ]);
    expect(inputs(poolRules[0] as PlannedResource).remoteIpPrefix).toBeUndefined();
    // The submit node's SSH is open only to canfar:sshIngressCidrs.
    const sshRules = ofType(e, RULE).filter((r) => inputs(r).securityGroupId === "pool-submit-access-ssh-id");
    expect(sshRules.map((r) => [inputs(r).remoteIpPrefix, inputs(r).portRangeMin])).toEqual([["198.51.100.0/24", 22]]);
  });

  it("drains each worker on the submit node before its server is deleted: the delete names the worker, depends on its server and follows its id", () => {
    const ds = drains(e);
    expect(ds.map((d) => d.name)).toEqual(["pool-workers-0-drain", "pool-workers-1-drain", "pool-workers-2-drain"]);
    ds.forEach((d, i) => {
      expect(inputs(d).delete).toBe(`sudo -n bash 'canfar-batch/pool/drain-worker.sh' --worker 'canfar-batch-dev-worker-${i}' --timeout ${DRAIN_TIMEOUT_SECONDS}`);
      expect(short(d.dependencies)).toEqual(expect.arrayContaining([`pool-workers-${i}-server`, "pool-workers-stage-drain"]));
      // The server's id in the triggers: a replaced server replaces (so runs) its drain too.
      expect(inputs(d).triggers).toEqual([`pool-workers-${i}-server-id`]);
      expect(short(d.propertyDependencies?.triggers ?? [])).toEqual([`pool-workers-${i}-server`]);
    });
    // On the submit node: the drain script is staged there, over the node's pinned connection.
    const staged = ofType(e, REMOTE).find((r) => r.name === "pool-workers-stage-drain");
    expect(inputs(staged as PlannedResource).create).toContain("'canfar-batch/pool/drain-worker.sh'");
    expect(short(staged?.dependencies ?? [])).toEqual(expect.arrayContaining(["pool-submit-server", "pool-submit-access-fip-assoc"]));
  });

  it("submits on the submit node with condor_submit, as the image's default user, only once the workers exist", () => {
    const submit = ofType(e, REMOTE).find((r) => r.name === "batch-submit") as PlannedResource;
    expect(String(inputs(submit).create)).toMatch(/^bash 'canfar-batch\/runs\/dev-[0-9a-f]{12}\/submit.sh' .* --mode self-hosted --image 'image-reduction-YYYY-MM-DD-[0-9a-f]{10}' --proxy cadcproxy.pem --min-valid 172800 --dest 'vos:astronomer\/catalogues' --pipeline [0-9a-f]{12} --policy changed --exposures exposures.txt --per-job 4$/);
    expect(short(submit.dependencies)).toEqual(expect.arrayContaining(["pool-workers", "batch-certificate", "pool-submit-server"]));
    expect(e.outputs.followCommand).toMatch(/^ssh ubuntu@203\.0\.113\.11 bash canfar-batch\/runs\/dev-[0-9a-f]{12}\/follow.sh 0$/);
    expect(e.outputs.workers).toEqual(["canfar-batch-dev-worker-0", "canfar-batch-dev-worker-1", "canfar-batch-dev-worker-2"]);
    expect(e.outputs.submitNodeHostKey).toMatch(/^ssh-ed25519 AAAA/);
    // The jobs' certificate is made on the submit node, as on a batch host.
    const cert = ofType(e, REMOTE).find((r) => r.name === "batch-certificate") as PlannedResource;
    expect(String(inputs(cert).create)).toContain("--cert-only");
    expect(inputs(cert).stdin).toBe("[secret]");
  });
});

describe("scaling the pool", () => {
  it("keeps worker-0 worker-0: fewer workers drop the highest-numbered ones, with their drains", async () => {
    const three = await selfHosted(3);
    const two = await selfHosted(2);
    const urns = (e: Evaluation) => [...workerServers(e), ...drains(e)].map((r) => r.urn);
    expect(urns(two).every((u) => urns(three).includes(u))).toBe(true);
    expect(urns(three).filter((u) => !urns(two).includes(u)).map((u) => u.split("::").pop())).toEqual(["pool-workers-2-server", "pool-workers-2-drain"]);
  });

  it("workerCount 0 declares no worker, no worker port and no drain, and keeps the submit node", async () => {
    const e = await selfHosted(0);
    expect(workerServers(e)).toEqual([]);
    expect(ofType(e, PORT).filter((p) => p.name.startsWith("pool-workers-"))).toEqual([]);
    expect(ofType(e, REMOTE).filter((r) => r.name.startsWith("pool-workers-"))).toEqual([]);
    expect(ofType(e, INSTANCE).map((r) => r.name)).toEqual(["build-server", "pool-submit-server"]);
  });
});

describe("batch system keys", () => {
  it("refuses every key of CANFAR's batch service in self-hosted mode, naming each, before any resource", async () => {
    const canfarKeys: Record<string, string> = {
      batchHost: "batch.canfar.net",
      batchHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7f2d9b1QmW6Jc0S1dY3b7g2Z0y8fG4uKpQm9vR1sTb",
      batchUser: "astronomer",
      batchPort: "22",
      submitMode: "csv2",
      openstackAuthUrl: "https://keystone.example.org:5000/v3",
      openstackProjectName: "p",
      openstackProjectId: "0123456789abcdef0123456789abcdef",
      openstackUserDomainName: "CCDB",
    };
    expect(Object.keys(canfarKeys).sort()).toEqual([...CANFAR_ONLY_KEYS].sort());
    const attempt = evaluateProgram({ batchSystem: "self-hosted", poolPassword: POOL_PASSWORD, ...canfarKeys }, { secretKeys: SECRET_KEYS });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    const error = (await attempt.catch((err: unknown) => err)) as ConfigError;
    expect(error.problems.map((p) => p.key).sort()).toEqual(CANFAR_ONLY_KEYS.map((k) => `canfar:${k}`).sort());
    expect(error.problems[0]?.message).toContain("with canfar:batchSystem self-hosted the jobs are submitted with condor_submit");
  });

  it("declares no pool in canfar mode (the default)", async () => {
    const e = await evaluateProgram();
    expect(e.resources.filter((r) => r.name.startsWith("pool-"))).toEqual([]);
  });
});
