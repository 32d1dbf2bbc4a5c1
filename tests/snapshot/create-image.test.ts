import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { OpenstackDouble } from "../../harness/doubles/openstack-double";

const SCRIPT = resolve(__dirname, "../../provisioning/local/create-image.sh");
const HASH = "sha256-0f1e2d";

describe("create-image.sh against the openstack double", () => {
  let os: OpenstackDouble;
  beforeEach(() => {
    os = new OpenstackDouble();
    os.addServer("build-vm", "ACTIVE");
  });
  afterEach(() => os.cleanup());

  const run = (args: string[], scenario: Record<string, string> = {}) =>
    execCommand([SCRIPT, ...args], { env: os.env(scenario), timeoutMs: 60_000 });
  const standard = ["--server", "build-vm", "--name", "image-reduction-2026", "--property", `canfar_batch_content=${HASH}`];

  it("stops the server, creates the image with its properties, polls until active and prints one JSON line", async () => {
    const r = await run([...standard, "--poll", "1"], { OPENSTACK_DOUBLE_ACTIVE_AFTER: "3", OPENSTACK_DOUBLE_STOP_AFTER: "2" });
    expect(r.stderr).toContain("waiting for image image-reduction-2026: saving (");
    expect(r.stderr).toContain("waiting for server build-vm: STOPPING");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const images = os.images();
    expect(images).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toEqual({ id: images[0]?.id, name: "image-reduction-2026", status: "active" });
    expect(images[0]?.properties).toEqual({ canfar_batch_content: HASH });
    expect(os.serverStatus("build-vm")).toBe("SHUTOFF");
    const verbs = os.calls().map((c) => c.split(" ").slice(0, 2).join(" "));
    // The stop must complete (SHUTOFF seen) before the image is created.
    const create = verbs.indexOf("server image");
    expect(verbs.indexOf("server stop")).toBeGreaterThan(-1);
    expect(verbs.indexOf("server stop")).toBeLessThan(create);
    expect(verbs.slice(0, create).filter((v) => v === "server show").length).toBeGreaterThanOrEqual(3);
    expect(verbs.slice(create + 1).every((v) => v === "image show")).toBe(true);
    expect(os.calls()).toContain(
      `server image create --name image-reduction-2026 --property canfar_batch_content=${HASH} build-vm -f value -c id`,
    );
  });

  it("does not stop a server that is already SHUTOFF", async () => {
    os.addServer("build-vm", "SHUTOFF");
    const r = await run([...standard, "--poll", "1"]);
    expect(r.code).toBe(0);
    expect(os.calls().some((c) => c.startsWith("server stop"))).toBe(false);
  });

  it("reuses an existing active image with the same content hash without touching the server", async () => {
    os.addImage({ id: "11111111-aaaa", name: "image-reduction-2026", status: "active", properties: { canfar_batch_content: HASH } });
    const r = await run(standard);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id: "11111111-aaaa", name: "image-reduction-2026", status: "active" });
    expect(r.stderr).toContain("reusing image image-reduction-2026");
    expect(os.calls().filter((c) => c.startsWith("server "))).toEqual([]);
    expect(os.serverStatus("build-vm")).toBe("ACTIVE");
    expect(os.images()).toHaveLength(1);
  });

  it("waits for an image of the same content left saving by an interrupted run instead of making another", async () => {
    os.addImage({ id: "22222222-bbbb", name: "image-reduction-2026", status: "saving", properties: { canfar_batch_content: HASH } });
    const r = await run([...standard, "--poll", "1"], { OPENSTACK_DOUBLE_ACTIVE_AFTER: "2" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).id).toBe("22222222-bbbb");
    expect(os.images()).toHaveLength(1);
  });

  it("refuses a name taken by an image of other content, before stopping anything", async () => {
    os.addImage({ id: "33333333-cccc", name: "image-reduction-2026", status: "active", properties: { canfar_batch_content: "other" } });
    const r = await run(standard);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("an image named 'image-reduction-2026' already exists (33333333-cccc");
    expect(r.stderr).toContain("CANFAR resolves images by name");
    expect(os.serverStatus("build-vm")).toBe("ACTIVE");
    expect(os.calls().some((c) => c.startsWith("server image create"))).toBe(false);
  });

  it("refuses a name held by two images", async () => {
    os.addImage({ id: "44444444-dddd", name: "image-reduction-2026", status: "active", properties: { canfar_batch_content: HASH } });
    os.addImage({ id: "55555555-eeee", name: "image-reduction-2026", status: "active", properties: {} });
    const r = await run(standard);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("2 images are already named 'image-reduction-2026'");
  });

  it("surfaces the cloud's quota message with its own exit code", async () => {
    const r = await run(standard, { OPENSTACK_DOUBLE_CREATE_FAIL: "quota" });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Quota exceeded for resources: ['image_count_total']");
    expect(r.stderr).toContain("delete unused images");
  });

  it("quotes any other creation failure", async () => {
    const r = await run(standard, { OPENSTACK_DOUBLE_CREATE_FAIL: "error" });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("Cannot 'createImage' instance build-vm");
  });

  it("ends with the timeout error when the image stays saving (does not hang)", async () => {
    const started = Date.now();
    const r = await run([...standard, "--timeout", "3", "--poll", "1"], { OPENSTACK_DOUBLE_IMAGE_END: "stuck" });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(
      "image image-reduction-2026 still 'saving' after 3 s; raise canfar:snapshotTimeoutSeconds or check the cloud",
    );
    expect(r.stdout).toBe("");
    // Not a speed check: proves the loop is bounded by --timeout rather than the test's kill.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("fails clearly when the image is killed", async () => {
    const r = await run([...standard, "--poll", "1"], { OPENSTACK_DOUBLE_IMAGE_END: "killed", OPENSTACK_DOUBLE_ACTIVE_AFTER: "2" });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/image image-reduction-2026 \(\S+\) ended 'killed'/);
    expect(r.stdout).toBe("");
  });

  it("fails when the server is missing", async () => {
    const r = await run(["--server", "no-such-vm", "--name", "x"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("No server with a name or ID of 'no-such-vm' exists.");
  });

  it.each([
    [["--name", "x"], "--server is required"],
    [["--server", "s"], "--name is required"],
    [["--server", "s", "--name", "bad name"], "--name 'bad name': expected"],
    [["--server", "s", "--name", "x", "--timeout", "0"], "--timeout '0': expected a positive number"],
    [["--server", "s", "--name", "x", "--poll", "soon"], "--poll 'soon': expected a positive number"],
    [["--server", "s", "--name", "x", "--property", "novalue"], "--property 'novalue': expected key=value"],
    [["--server", "s", "--name", "x", "--flavor", "c2"], "unknown argument '--flavor'"],
    [["--server", "s", "--name", "x", "--property", `canfar_batch_packages=${"p".repeat(256)}`],
      "--property canfar_batch_packages: the value is 256 characters; OpenStack image properties hold at most 255"],
  ])("rejects bad input %j before calling the cloud", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(os.calls()).toEqual([]);
  });

  it("documents itself with --help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: create-image.sh --server SERVER_ID --name IMAGE_NAME");
    expect(r.stderr).toContain("8 timeout");
  });
});
