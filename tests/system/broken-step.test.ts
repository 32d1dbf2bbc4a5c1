import { afterAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { BuildVmStandIn, newKey, PASSWORD, programFor, provision, StepFailed } from "./build-vm";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "ssh", "scp", "ssh-keygen"] });

describe.skipIf(why)("system: a deliberately broken step", () => {
  let vm: BuildVmStandIn | undefined;
  afterAll(async () => {
    await vm?.stop();
  });

  it("a package name that does not exist fails provisioning at the cloud-init step, named", async () => {
    const { key, dir } = await newKey();
    const program = await programFor(key, { "canfar:extraPackages": JSON.stringify(["canfar-batch-no-such-package"]) });
    expect(program.userData).toContain("canfar-batch-no-such-package");
    const booted = await BuildVmStandIn.boot(key, dir, { userData: program.userData, defaultUser: program.settings.defaultUser, cadcUser: program.settings.cadcUser });
    vm = booted.vm;
    expect(booted.cloudInit.code).not.toBe(0);
    const attempt = provision(vm, program.actions, { cadcPassword: PASSWORD });
    await expect(attempt).rejects.toBeInstanceOf(StepFailed);
    await expect(attempt).rejects.toThrow(/^provisioning step 'wait-cloud-init' \(wait for cloud-init to install the packages\) failed with exit 1:\n[\s\S]*cloud-init/);
    // Nothing after the failed step ran: the CADC user was never created.
    expect((await vm.root.run("id astronomer")).code).not.toBe(0);
  }, 600_000);
});
