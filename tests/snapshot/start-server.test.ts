import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { OpenstackDouble } from "../../harness/doubles/openstack-double";

const START = resolve(__dirname, "../../provisioning/local/start-server.sh");

describe("start-server.sh against the openstack double", () => {
  let os: OpenstackDouble;
  beforeEach(() => {
    os = new OpenstackDouble();
  });
  afterEach(() => os.cleanup());
  const run = (argv: string[], env: Record<string, string> = {}) =>
    execCommand(argv, { env: { ...os.env(), CANFAR_START_POLL_SECONDS: "1", ...env }, timeoutMs: 60_000 });

  it("does nothing to a running VM", async () => {
    os.addServer("vm-1", "ACTIVE");
    const r = await run([START, "--server", "vm-1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(os.calls().filter((c) => c.startsWith("server start"))).toEqual([]);
  });

  it("starts a VM a snapshot left stopped, and waits until it is ACTIVE", async () => {
    os.addServer("vm-1", "SHUTOFF");
    const r = await run([START, "--server", "vm-1"], { OPENSTACK_DOUBLE_STOP_AFTER: "2" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("build VM vm-1 is stopped (after a snapshot); starting it");
    expect(os.serverStatus("vm-1")).toBe("ACTIVE");
    expect(os.calls().filter((c) => c.startsWith("server start"))).toHaveLength(1);
  });

  it("says how to recover when the VM was deleted after the snapshot", async () => {
    const r = await run([START, "--server", "vm-gone"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("build VM 'vm-gone' no longer exists (deleted after the snapshot?); run `pulumi refresh`");
  });

  it("gives up on a VM in ERROR, and bounds the wait", async () => {
    os.addServer("vm-err", "ERROR");
    expect((await run([START, "--server", "vm-err"])).code).toBe(4);
    os.addServer("vm-build", "BUILD");
    const r = await run([START, "--server", "vm-build", "--timeout", "2"]);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain("build VM 'vm-build' still BUILD after 2 s");
  });

  it("refuses bad arguments before calling the cloud", async () => {
    const r = await run([START, "--server", "vm;rm -rf /"]);
    expect(r.code).toBe(2);
    expect(os.calls()).toEqual([]);
    expect((await run([START, "--help"])).code).toBe(0);
  });
});
