import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { predict } from "../../tools/preview/predict";
import type { Step } from "../../tools/preview/steps";
import { renderDev } from "./stack-change";

// The seven day-two defects, each as the rule the program now declares and as what the
// engine would then do on the second `pulumi up` (predicted from the declared options, the
// provider's ForceNew table and the command provider's triggers).
const INSTANCE = "openstack:compute/instance:Instance";
const byName = (resources: readonly PlannedResource[], name: string): PlannedResource => {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};
const step = (steps: readonly Step[], name: string): Step => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step for ${name}`);
  return s;
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const provisioningActions = (resources: readonly PlannedResource[]) => resources.filter((r) => r.name.startsWith("provision-") && r.type.startsWith("command:remote:"));

describe("day two: changing a running stack", () => {
  let base: PlannedResource[];
  beforeAll(async () => {
    base = await renderDev();
  }, 120_000);

  it("1. a replaced build VM is deleted before the new one takes its port (no 409 'port in use')", async () => {
    expect(byName(base, "build-server").options).toMatchObject({ deleteBeforeReplace: true });
    const p = predict(base, await renderDev({ set: { extraPackages: ["htop"] } }));
    expect(step(p.steps, "build-server")).toMatchObject({ op: "replace", replaceReasons: ["userData"], deleteBeforeReplace: true });
    expect(p.hazards).toEqual([]);
    // The same change without the option is what the hazard check exists for.
    const careless = base.map((r) => (r.name === "build-server" ? { ...r, options: { ...r.options, deleteBeforeReplace: false } } : r));
    const headCareless = (await renderDev({ set: { extraPackages: ["htop"] } })).map((r) => (r.name === "build-server" ? { ...r, options: { ...r.options, deleteBeforeReplace: false } } : r));
    const flagged = predict(careless, headCareless);
    expect(flagged.hazards.map((h) => h.message)).toEqual([expect.stringContaining('needs the port "access-port-id" while its old self')]);
  });

  it("2. a new public key replaces the key pair delete-first (Nova refuses a second pair of one name)", async () => {
    expect(byName(base, "key-keypair").options).toMatchObject({ deleteBeforeReplace: true });
    const p = predict(base, await renderDev({ set: { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvzXgA1o0hj2nYyE4u9bK0m8v6j8xj1lWk6q3d0Hq1b new@example.org" } }));
    expect(step(p.steps, "key-keypair")).toMatchObject({ op: "replace", replaceReasons: ["publicKey"], deleteBeforeReplace: true });
    // The key pair's name comes from the replaced key pair: unknown, so the server is replaced too.
    expect(step(p.steps, "build-server")).toMatchObject({ op: "replace", replaceReasons: ["keyPair"] });
    expect(p.hazards).toEqual([]);
  });

  it("3. a replaced server is provisioned whole again before the snapshot, and copy-quiesce follows the content", async () => {
    for (const r of provisioningActions(base)) {
      expect((r.inputs as { triggers: unknown[] }).triggers, r.name).toContain("build-server-id");
      expect(r.propertyDependencies?.triggers?.some((u) => u.endsWith("::build-server")), r.name).toBe(true);
    }
    const p = predict(base, await renderDev({ set: { extraPackages: ["htop"] } }));
    for (const r of provisioningActions(base)) expect(step(p.steps, r.name).op, r.name).toBe("replace");
    for (const name of ["worker-image-package-versions", "worker-image-copy-quiesce", "worker-image-quiesce", "worker-image-image"]) {
      expect(step(p.steps, name).op, name).toBe("replace");
    }
    // Only a script after the user step changed: the snapshot chain re-runs whole, on a copy it made anew.
    const q = predict(base, await renderDev({ set: { scratchDevice: "/dev/vdc" } }));
    expect(step(q.steps, "worker-image-copy-quiesce").op).toBe("replace");
    expect(step(q.steps, "provision-create-user").op).toBe("same");
  });

  it("4. a base image republished under the same name changes nothing; a new name replaces the VM", async () => {
    // The state holds the id resolved at the first `up`; today the name resolves to another.
    const older = base.map((r) => (r.name === "build-base-image" ? clone(r) : r));
    (byName(older, "build-base-image").inputs as { environment: Record<string, string> }).environment.BASE_IMAGE_ID = "image-published-last-month";
    expect(byName(base, "build-base-image").options?.ignoreChanges).toContain("environment");
    const p = predict(older, base);
    expect(p.steps.filter((s) => s.op !== "same")).toEqual([]);
    const renamed = predict(base, await renderDev({ set: { image: "canfar-ubuntu-22.04" } }));
    expect(step(renamed.steps, "build-base-image")).toMatchObject({ op: "replace", replaceReasons: ["triggers"] });
    expect(step(renamed.steps, "build-server")).toMatchObject({ op: "replace", replaceReasons: ["imageId"], deleteBeforeReplace: true });
    expect(renamed.consequences.map((c) => c.id)).toContain("new-image");
  });

  it("5. a server a snapshot stopped, recorded as stopped by `pulumi refresh`, is left stopped by the next up", () => {
    // What refresh stores: the provider's Read sets power_state from the server's status.
    const refreshed = base.map((r) => (r.name === "build-server" ? { ...r, inputs: { ...(r.inputs as object), powerState: "shutoff" } } : r));
    expect(byName(base, "build-server").options?.ignoreChanges).toEqual(["powerState"]);
    expect(predict(refreshed, base).steps.filter((s) => s.op !== "same")).toEqual([]);
  });

  it("6. a start after quiesce is a first boot: the wait for cloud-init runs again after every start", async () => {
    const wait = byName(base, "provision-wait-cloud-init");
    expect(wait.propertyDependencies?.triggers?.some((u) => u.endsWith("::provision-ensure-running"))).toBe(true);
    const p = predict(base, await renderDev({ set: { scratchDevice: "/dev/vdc" } }));
    expect(step(p.steps, "provision-ensure-running").op).toBe("replace");
    expect(step(p.steps, "provision-wait-cloud-init").op).toBe("replace");
    // ... and the steps before the changed one stay as they are.
    expect(step(p.steps, "provision-create-user").op).toBe("same");
    expect(step(p.steps, "provision-setup-scratch").op).toBe("replace");
  });

  it("7. with keepImageOnDestroy false, a new image keeps the one it replaces (held jobs may still need it)", async () => {
    const dropping = await renderDev({ set: { keepImageOnDestroy: false } });
    const p = predict(dropping, await renderDev({ set: { keepImageOnDestroy: false, extraPackages: ["htop"] } }));
    expect(step(p.steps, "worker-image-image").op).toBe("replace");
    expect((byName(dropping, "worker-image-image").inputs as { delete?: string }).delete).toBeUndefined();
    // The destroy-time delete is only updated: it deletes nothing until `pulumi destroy`.
    expect(step(p.steps, "worker-image-delete-on-destroy")).toMatchObject({ op: "update", diffReasons: ["environment"] });
    expect(p.consequences.find((c) => c.id === "new-image")?.text).toContain("the previous image is kept");
  });
});

describe("the offline engine's own rules", () => {
  const r = (name: string, type: string, inputs: Record<string, unknown>, extra: Partial<PlannedResource> = {}): PlannedResource => ({
    urn: `urn:pulumi:dev::p::${type}::${name}`,
    type,
    name,
    dependencies: [],
    inputs,
    ...extra,
  });

  it("a changed trigger replaces a command create-first; any other changed input is an update", () => {
    const cmd = "command:remote:Command";
    const p = predict([r("a", cmd, { create: "x", triggers: ["1"] }), r("b", cmd, { create: "x", triggers: ["1"] })], [r("a", cmd, { create: "x", triggers: ["2"] }), r("b", cmd, { create: "y", triggers: ["1"] })]);
    expect(p.steps.map((s) => [s.name, s.op, s.deleteBeforeReplace])).toEqual([["a", "replace", false], ["b", "update", null]]);
  });

  it("an input from a replaced resource is unknown, so its rule fires; from an updated one it is not", () => {
    const fip = "openstack:networking/floatingIp:FloatingIp";
    const assoc = "openstack:networking/floatingIpAssociate:FloatingIpAssociate";
    const base = [r("f", fip, { pool: "A" }), r("a", assoc, { floatingIp: "203.0.113.10", portId: "p" }, { propertyDependencies: { floatingIp: ["urn:pulumi:dev::p::" + fip + "::f"] } })];
    const head = [r("f", fip, { pool: "B" }), base[1] as PlannedResource];
    expect(predict(base, head).steps.map((s) => [s.name, s.op])).toEqual([["f", "replace"], ["a", "replace"]]);
    const described = [r("f", fip, { pool: "A", description: "new" }), base[1] as PlannedResource];
    expect(predict(base, described).steps.map((s) => [s.name, s.op])).toEqual([["f", "update"], ["a", "same"]]);
  });

  it("a renamed resource with an alias is the same resource; without one it is a create and a delete that collide", () => {
    const rule = "openstack:networking/secGroupRule:SecGroupRule";
    const inputs = { securityGroupId: "g", direction: "ingress", ethertype: "IPv4", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "198.51.100.0/24" };
    const old = [r("ssh-0", rule, inputs)];
    expect(predict(old, [r("ssh-198-51-100-0-24", rule, inputs, { options: { aliases: ["ssh-0"] } })]).steps.map((s) => s.op)).toEqual(["same"]);
    const renamed = predict(old, [r("ssh-198-51-100-0-24", rule, inputs)]);
    expect(renamed.steps.map((s) => s.op)).toEqual(["create", "delete"]);
    expect(renamed.hazards.map((h) => h.message)).toEqual([expect.stringContaining("security group rule")]);
  });

  it("removing the first of two SSH ranges deletes that rule only (rules are named by CIDR)", async () => {
    const two = await renderDev({ set: { sshIngressCidrs: ["198.51.100.0/24", "203.0.113.0/24"] } });
    const p = predict(two, await renderDev({ set: { sshIngressCidrs: ["203.0.113.0/24"] } }));
    expect(p.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name])).toEqual([["delete", "access-ssh-198-51-100-0-24"]]);
    expect(p.hazards).toEqual([]);
  });

  it("ignoreChanges hides a change; replaceOnChanges makes an update a replacement", () => {
    const inst = "openstack:compute/instance:Instance";
    const base = [r("s", inst, { flavorName: "a", metadata: { x: "1" } })];
    expect(predict(base, [r("s", inst, { flavorName: "b", metadata: { x: "1" } })]).steps[0]).toMatchObject({ op: "update", diffReasons: ["flavorName"] });
    expect(predict(base, [r("s", inst, { flavorName: "b", metadata: { x: "1" } }, { options: { replaceOnChanges: ["flavorName"] } })]).steps[0]).toMatchObject({ op: "replace", replaceReasons: ["flavorName"] });
    expect(predict(base, [r("s", inst, { flavorName: "b", metadata: { x: "1" } }, { options: { ignoreChanges: ["flavorName"] } })]).steps[0]?.op).toBe("same");
    // The bridge deletes first when the program named the resource.
    expect(predict([r("s", inst, { name: "n", userData: "a" })], [r("s", inst, { name: "n", userData: "b" })]).steps[0]?.deleteBeforeReplace).toBe(true);
    expect(INSTANCE).toBe(inst);
  });
});
