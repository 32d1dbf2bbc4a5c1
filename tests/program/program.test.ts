import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config-error";
import { renderCloudInit } from "../../build/user-data";
import type { Evaluation } from "../../offline/evaluate";
import { VALID_RAW } from "../fixtures/stack-config";
import { evaluateProgram, ofType, one } from "../fixtures/evaluate-program";

const INSTANCE = "openstack:compute/instance:Instance";
const FIP = "openstack:networking/floatingIp:FloatingIp";
const ASSOC = "openstack:networking/floatingIpAssociate:FloatingIpAssociate";
const RULE = "openstack:networking/secGroupRule:SecGroupRule";
/** The steps that run on the build VM over SSH, in the plan's order, and the snapshot's quiesce. */
const VM_STEPS = [
  "provision-wait-cloud-init",
  "provision-create-user",
  "provision-setup-scratch",
  "provision-cadc-credentials",
  "provision-install-pipeline",
  "provision-smoke-test",
  "worker-image-package-versions",
  "worker-image-quiesce",
];

/** Every name a resource gives the cloud. */
function cloudNames(e: Evaluation): string[] {
  return e.resources
    .filter((r) => !r.type.startsWith("canfar:") && !r.type.startsWith("pulumi:"))
    .map((r) => (r.inputs as { name?: string }).name)
    .filter((n): n is string => typeof n === "string");
}

describe("the program under mocks (dev fixture)", () => {
  let e: Evaluation;
  beforeAll(async () => {
    e = await evaluateProgram({ sshIngressCidrs: JSON.stringify(["198.51.100.0/24", "2001:db8::/32"]) });
  });

  it("declares one component per concept with canfar:index tokens, children parented to them", () => {
    const components = e.resources.filter((r) => r.type.startsWith("canfar:"));
    expect(components.map((c) => c.type).sort()).toEqual([
      "canfar:index:AccessNetwork",
      "canfar:index:BuildVm",
      "canfar:index:HostKey",
      "canfar:index:KeyPair",
      "canfar:index:Provisioning",
      "canfar:index:Snapshot",
    ]);
    for (const r of e.resources.filter((r) => r.type.startsWith("openstack:") || r.type.startsWith("command:"))) {
      expect(r.parent, `${r.type} ${r.name}`).toMatch(/canfar:index:/);
    }
  });

  it("builds the VM from image, flavor, key pair and port, with the rendered user-data", () => {
    const vm = one(e, INSTANCE);
    expect(vm.inputs).toMatchObject({
      name: "canfar-batch-dev-build",
      imageId: "image-canfar-ubuntu-20.04",
      flavorName: "c2-7.5gb-30",
      keyPair: "canfar-batch-dev-key",
      networks: [{ port: "access-port-id" }],
    });
    // The user-data holds the VM's host key: a secret, written out with the key as [secret].
    expect(vm.inputs.userData).toMatch(/^\[secret [0-9a-f]{12}\]$/);
    const hostKey = { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n[secret]\n-----END OPENSSH PRIVATE KEY-----\n", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9mZmxpbmUtcmVuZGVyLWhvc3Qta2V5LTAwMDAwMDAw" };
    expect(vm.redactedInputs?.userData).toBe(renderCloudInit({ distro: "ubuntu", upgrade: false, extraPackages: [], hostKey }));
    expect(vm.dependencies.some((d) => d.endsWith("::key-keypair"))).toBe(true);
    expect(vm.dependencies.some((d) => d.endsWith("::access-port"))).toBe(true);
  });

  it("opens SSH only to the configured ranges, per address family", () => {
    const rules = ofType(e, RULE).map((r) => r.inputs as Record<string, unknown>);
    expect(rules.map((r) => [r.remoteIpPrefix, r.ethertype, r.portRangeMin, r.portRangeMax, r.direction])).toEqual([
      ["198.51.100.0/24", "IPv4", 22, 22, "ingress"],
      ["2001:db8::/32", "IPv6", 22, 22, "ingress"],
    ]);
  });

  it("allocates a floating IP from the pool and associates it with the port", () => {
    expect(one(e, FIP).inputs.pool).toBe("Public-Network");
    const assoc = one(e, ASSOC);
    expect(assoc.inputs).toMatchObject({ floatingIp: "203.0.113.10", portId: "access-port-id" });
  });

  it("exports the floating IP, the ssh command line and the instance id", () => {
    expect(e.outputs).toMatchObject({
      floatingIp: "203.0.113.10",
      sshCommand: "ssh astronomer@203.0.113.10",
      instanceId: "build-server-id",
      imageId: "worker-image-image-id",
      catalogueDestination: "vos:astronomer/catalogues",
    });
    expect(e.outputs.imageName).toMatch(/^image-reduction-YYYY-MM-DD-[0-9a-f]{10}$/);
    // No batch host configured: the stack stops at the image.
    expect(e.outputs.clusterId).toBeUndefined();
  });

  it("provisions over SSH only once the floating IP is associated, with the key and password as secrets", () => {
    const commands = ofType(e, "command:remote:Command");
    // Every step that talks to the VM is among them, so the loop below checks each of those.
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(VM_STEPS));
    for (const c of commands) {
      expect(c.dependencies.some((d) => d.endsWith("::access-fip-assoc")), c.name).toBe(true);
      const inputs = c.inputs as { connection: Record<string, unknown>; stdin?: unknown };
      // pulumi-command marks the whole connection (host, user, key) secret.
      expect(inputs.connection).toBe("[secret]");
    }
    const credentials = commands.find((c) => c.name === "provision-cadc-credentials");
    expect((credentials?.inputs as { stdin?: unknown }).stdin).toBe("[secret]");
    expect(commands.filter((c) => (c.inputs as { stdin?: unknown }).stdin !== undefined).map((c) => c.name)).toEqual(["provision-cadc-credentials"]);
  });

  it("waits for the build VM, started if a snapshot stopped it, before the first SSH dial", () => {
    const ensure = ofType(e, "command:local:Command").find((c) => c.name === "provision-ensure-running");
    expect(ensure?.dependencies.some((d) => d.endsWith("canfar:index:BuildVm::build"))).toBe(true);
    expect((ensure?.inputs as { create?: string }).create).toBe(`bash provisioning/local/start-server.sh --server "$SERVER_ID"`);
    const stage = ofType(e, "command:remote:Command").find((c) => c.name === "provision-stage-ubuntu");
    expect(stage?.dependencies.some((d) => d.endsWith("::provision-ensure-running"))).toBe(true);
  });

  it("never shows a secret in plain text in any input or output", () => {
    const text = JSON.stringify(e);
    expect(text).not.toContain(VALID_RAW.cadcPassword);
    expect(text).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
  });
});

describe("names carry project and stack", () => {
  it("two stacks of one user share no cloud name (Nova key pairs are per user)", async () => {
    const a = cloudNames(await evaluateProgram({}, { stack: "alpha" }));
    const b = cloudNames(await evaluateProgram({}, { stack: "beta" }));
    expect(a.length).toBeGreaterThanOrEqual(4);
    expect(a.every((n) => n.startsWith("canfar-batch-alpha-"))).toBe(true);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
  });
});

describe("an adopted floating IP", () => {
  it("is looked up and associated, never allocated (so destroy never releases it)", async () => {
    const e = await evaluateProgram({ floatingIp: "206.12.90.10" });
    expect(ofType(e, FIP)).toEqual([]);
    expect(one(e, ASSOC).inputs.floatingIp).toBe("206.12.90.10");
    expect(e.outputs.floatingIp).toBe("206.12.90.10");
  });
});

describe("invalid config", () => {
  it("fails with every problem of every key named by key (a type error hides no cross-key one), before any resource is declared", async () => {
    const attempt = evaluateProgram({ flavor: "p8-12gb", cadcUser: "Bad User" }, { secretKeys: ["canfar:sshPrivateKey"] });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      [
        "Invalid configuration of stack 'dev':",
        "  - canfar:cadcPassword: must be a Pulumi secret; set it with `pulumi config set --secret canfar:cadcPassword ...`",
        "  - canfar:cadcUser: expected a CADC user name: lowercase letters, digits, '_' or '-', at most 32, not starting with a digit",
        "  - canfar:flavor: 'p8-12gb' has no ephemeral disk, so /mnt/scratch cannot be set up; choose a c* flavor such as c2-7.5gb-30",
      ].join("\n"),
    );
  });

  it("reports a cross-field problem by its key", async () => {
    await expect(evaluateProgram({ flavor: "p8-12gb" })).rejects.toThrow(
      "  - canfar:flavor: 'p8-12gb' has no ephemeral disk, so /mnt/scratch cannot be set up; choose a c* flavor such as c2-7.5gb-30",
    );
  });
});

describe("with canfar:sshAgent", () => {
  it("declares every SSH step with no private key anywhere, and connections that leave the key to the agent", async () => {
    const { connectionAuth } = await import("../../lib/ssh-auth");
    expect(connectionAuth({ kind: "agent" })).toEqual({});
    const e = await evaluateProgram({ sshAgent: "true", sshPrivateKey: "" }, { secretKeys: ["canfar:cadcPassword"], drop: ["sshPrivateKey"] });
    expect(ofType(e, "command:remote:Command").map((c) => c.name)).toEqual(expect.arrayContaining(VM_STEPS));
    expect(JSON.stringify(e)).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
  });
});
