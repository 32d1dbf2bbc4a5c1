import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { OpenstackDouble } from "../../harness/doubles/openstack-double";

const DELETE_IMAGE = resolve(__dirname, "../../provisioning/local/delete-image.sh");
const DELETE_SERVER = resolve(__dirname, "../../provisioning/local/delete-server.sh");

describe("delete-image.sh and delete-server.sh against the openstack double", () => {
  let os: OpenstackDouble;
  beforeEach(() => {
    os = new OpenstackDouble();
  });
  afterEach(() => os.cleanup());
  const run = (argv: string[]) => execCommand(argv, { env: os.env(), timeoutMs: 60_000 });

  it("deletes an image, then treats the second delete as done", async () => {
    os.addImage({ id: "aaaa-1111", name: "img", status: "active", properties: {} });
    const first = await run([DELETE_IMAGE, "--image", "aaaa-1111"]);
    expect(first.code).toBe(0);
    expect(os.images()).toEqual([]);
    const second = await run([DELETE_IMAGE, "--image", "aaaa-1111"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("image aaaa-1111 does not exist (already deleted)");
    expect(os.calls().filter((c) => c.startsWith("image delete"))).toHaveLength(2);
  });

  it("requires --image", async () => {
    const r = await run([DELETE_IMAGE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--image is required");
  });

  it("keeps the build VM while its image is not active", async () => {
    os.addServer("vm-1", "SHUTOFF");
    os.addImage({ id: "bbbb-2222", name: "img", status: "active", properties: {} });
    os.addImage({ id: "cccc-3333", name: "img2", status: "killed", properties: {} });
    const r = await run([DELETE_SERVER, "--server", "vm-1", "--image", "cccc-3333"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("image 'cccc-3333' is 'killed', not active; keeping the build VM");
    expect(os.serverStatus("vm-1")).toBe("SHUTOFF");
  });

  it("keeps the build VM when its image does not exist", async () => {
    os.addServer("vm-1", "SHUTOFF");
    const r = await run([DELETE_SERVER, "--server", "vm-1", "--image", "dddd-4444"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("image 'dddd-4444' does not exist; keeping the build VM");
    expect(os.serverStatus("vm-1")).toBe("SHUTOFF");
  });

  it("deletes the server once the image is active, then treats the second delete as done", async () => {
    os.addServer("vm-1", "SHUTOFF");
    os.addImage({ id: "bbbb-2222", name: "img", status: "active", properties: {} });
    const first = await run([DELETE_SERVER, "--server", "vm-1", "--image", "bbbb-2222"]);
    expect(first.code).toBe(0);
    expect(os.serverStatus("vm-1")).toBeUndefined();
    const calls = os.calls();
    expect(calls.indexOf("image show bbbb-2222 -f value -c status")).toBeLessThan(calls.indexOf("server delete vm-1"));
    const second = await run([DELETE_SERVER, "--server", "vm-1", "--image", "bbbb-2222"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("server vm-1 does not exist (already deleted)");
  });
});
