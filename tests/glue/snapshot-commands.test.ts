import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { parseCreateOutput } from "../../image/snapshot";
import { OpenstackDouble } from "../../harness/doubles/openstack-double";
import { evaluateProgram } from "../fixtures/evaluate-program";
import { missing } from "../support/requirements";
import { assertPlain, declaredCommand, keptStdout, runLocal, type DeclaredCommand } from "../../harness/declared-command";

// The worker-image commands exactly as index.ts declares them, run the way local.Command
// runs them (/bin/sh -c, in `dir`, the provider's environment plus the declared one) with
// the openstack double first on PATH. Only values the mocks cannot know are substituted.
const SERVER = "3f1c2a9e-build-vm";
// What the declared package-versions command (dpkg-query) prints on Debian 12, trimmed as the component does.
const PACKAGES = "libcfitsio-bin=4.2.0-3 source-extractor=2.25.0+ds-3";

const why = missing({ commands: ["git", "python3", "bash"] });

describe.skipIf(why)("the snapshot component's commands, as declared, against the openstack double", () => {
  let image: DeclaredCommand;
  let deleteVm: DeclaredCommand;
  let cleanup: DeclaredCommand;
  let commit: string;
  let os: OpenstackDouble;

  beforeAll(async () => {
    const e = await evaluateProgram({ deleteBuildVmAfterSnapshot: "true", keepImageOnDestroy: "false" });
    image = declaredCommand(e, "worker-image-image");
    deleteVm = declaredCommand(e, "worker-image-delete-build-vm");
    cleanup = declaredCommand(e, "worker-image-delete-on-destroy");
    commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: image.dir, encoding: "utf8" }).trim();
  }, 120_000);

  beforeEach(() => {
    os = new OpenstackDouble();
    os.addServer(SERVER, "ACTIVE");
  });
  afterEach(() => os.cleanup());

  /** The declared environment with the mocks' placeholders replaced by what a real run would give. */
  const imageEnv = (extra: Record<string, string> = {}) => ({
    ...os.env(),
    ...image.environment,
    SERVER_ID: SERVER,
    PACKAGES,
    ...extra,
  });
  const run = (cmd: DeclaredCommand, command: string | undefined, env: NodeJS.ProcessEnv, timeoutMs = 60_000) => {
    if (command === undefined) throw new Error(`${cmd.name} declares no such command`);
    return runLocal({ command: assertPlain(command, cmd.name), dir: cmd.dir, env, timeoutMs });
  };
  const utcDate = () => new Date().toISOString().slice(0, 10);

  it("declares what these tests replace: placeholders only for the build VM and its package list", () => {
    expect(image.environment.SERVER_ID).toBe("build-server-id");
    expect(image.environment.PACKAGES).toBe("offline-render=0");
    expect(image.environment.CONTENT_TAG).toBe(image.environment.CONTENT_HASH?.slice(0, 10));
    expect(image.dir).toMatch(/\S/);
    // An update (new package list, say, with the same content) re-prints the image it made: no new image.
    expect(image.update).toBe(`printf '%s\\n' "$PULUMI_COMMAND_STDOUT"`);
    // A replaced image is kept; only the destroy-time cleanup deletes, and only the current one.
    expect(image.delete).toBeUndefined();
    expect(cleanup.delete).toMatch(/^bash \S+\/delete-image\.sh --image "\$IMAGE_ID"$/);
    expect(cleanup.environment.IMAGE_ID).toBe("worker-image-image-id");
    expect(deleteVm.environment.IMAGE_ID).toBe("worker-image-image-id");
  });

  it("create makes the image, update reprints it without calling the cloud, delete-build-vm and delete clean up", async () => {
    const before = utcDate();
    const created = await run(image, image.create, imageEnv());
    const after = utcDate();
    expect(created.stderr).not.toContain("error");
    expect(created.code).toBe(0);
    expect(created.stdout.trim().split("\n")).toHaveLength(1);
    const parsed = parseCreateOutput(keptStdout(created.stdout));

    const images = os.images();
    expect(images).toHaveLength(1);
    const made = images[0];
    if (!made) throw new Error("no image");
    const tag = image.environment.CONTENT_TAG;
    expect([`image-reduction-${before}-${tag}`, `image-reduction-${after}-${tag}`]).toContain(made.name);
    expect(parsed).toEqual({ id: made.id, name: made.name, status: "active" });
    expect(made.properties).toEqual({
      canfar_batch_content: image.environment.CONTENT_HASH,
      canfar_batch_commit: commit,
      canfar_batch_packages: PACKAGES,
      canfar_batch_stack: image.environment.PROVENANCE_STACK,
      canfar_batch_base_image: image.environment.PROVENANCE_BASE_IMAGE,
      canfar_batch_flavor: image.environment.PROVENANCE_FLAVOR,
    });
    expect(commit).toMatch(/^[0-9a-f]{12}$/);
    expect(os.serverStatus(SERVER)).toBe("SHUTOFF");
    // The packages string has spaces and '+': it must reach the CLI as one --property word.
    expect(os.calls()).toContain(
      `server image create --name ${made.name} --property canfar_batch_content=${image.environment.CONTENT_HASH} ` +
        `--property canfar_batch_commit=${commit} --property canfar_batch_packages=${PACKAGES} ` +
        `--property canfar_batch_stack=${image.environment.PROVENANCE_STACK} ` +
        `--property canfar_batch_base_image=${image.environment.PROVENANCE_BASE_IMAGE} ` +
        `--property canfar_batch_flavor=${image.environment.PROVENANCE_FLAVOR} ${SERVER} -f value -c id`,
    );

    const kept = keptStdout(created.stdout);
    const callsBefore = os.calls().length;
    const updated = await run(image, image.update, imageEnv({ PULUMI_COMMAND_STDOUT: kept }));
    expect(updated.code).toBe(0);
    expect(updated.stdout).toBe(`${kept}\n`);
    expect(parseCreateOutput(keptStdout(updated.stdout))).toEqual(parsed);
    expect(os.calls()).toHaveLength(callsBefore);

    const vmEnv = { ...os.env(), ...deleteVm.environment, SERVER_ID: SERVER, IMAGE_ID: parsed.id };
    const vmGone = await run(deleteVm, deleteVm.create, vmEnv);
    expect(vmGone.stderr).toContain(`image ${parsed.id} is active; deleting server ${SERVER}`);
    expect(vmGone.code).toBe(0);
    expect(os.serverStatus(SERVER)).toBeUndefined();
    const vmUpdate = await run(deleteVm, deleteVm.update, vmEnv);
    expect(vmUpdate.code).toBe(0);

    // A new image is an update of the cleanup: it prints, and deletes nothing.
    const cleanupEnv = { ...os.env(), ...cleanup.environment, IMAGE_ID: parsed.id };
    const callsBeforeCleanup = os.calls().length;
    const recorded = await run(cleanup, cleanup.update, cleanupEnv);
    expect(recorded.code).toBe(0);
    expect(os.calls()).toHaveLength(callsBeforeCleanup);
    expect(os.images()).toHaveLength(1);
    // Destroy runs the cleanup's delete with the id it last recorded.
    const deleted = await run(cleanup, cleanup.delete, cleanupEnv);
    expect(deleted.stderr).not.toContain("error");
    expect(deleted.code).toBe(0);
    expect(os.calls()).toContain(`image delete ${parsed.id}`);
    expect(os.images()).toEqual([]);
    // A destroy re-run after a partial failure finds the image gone and still succeeds.
    const again = await run(cleanup, cleanup.delete, cleanupEnv);
    expect(again.code).toBe(0);
  });

  it("delete-build-vm keeps the server while the image is not active", async () => {
    os.addImage({ id: "5a5a5a5a-saving", name: "image-reduction-x", status: "saving", properties: {} });
    // IMAGE_END=stuck: the double's `image show` would otherwise advance it to active.
    const r = await run(deleteVm, deleteVm.create, {
      ...os.env({ OPENSTACK_DOUBLE_IMAGE_END: "stuck" }),
      ...deleteVm.environment,
      SERVER_ID: SERVER,
      IMAGE_ID: "5a5a5a5a-saving",
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("image '5a5a5a5a-saving' is 'saving', not active; keeping the build VM");
    expect(os.serverStatus(SERVER)).toBe("ACTIVE");
    expect(os.calls().some((c) => c.startsWith("server delete"))).toBe(false);
  });

  it("create fails with exit 6 quoting the cloud when the image quota is exceeded", async () => {
    const r = await run(image, image.create, imageEnv({ OPENSTACK_DOUBLE_CREATE_FAIL: "quota" }));
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Quota exceeded for resources: ['image_count_total']");
    expect(r.stderr).toContain("delete unused images or snapshots");
    expect(os.images()).toEqual([]);
    // Nothing for the component to parse: `pulumi up` stops at the command's failure.
    expect(() => parseCreateOutput(keptStdout(r.stdout))).toThrow(/expected one JSON line/);
  });

  it("create ends in the timeout error, not a hang, when the image stays saving", async () => {
    // The declared command polls every $POLL seconds; 1 s keeps the test short.
    const r = await run(image, image.create, imageEnv({ TIMEOUT: "3", POLL: "1", OPENSTACK_DOUBLE_IMAGE_END: "stuck" }), 45_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(8);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/image image-reduction-\d{4}-\d{2}-\d{2}-[0-9a-f]{10} still 'saving' after 3 s; raise canfar:snapshotTimeoutSeconds/);
    expect(os.images().map((i) => i.status)).toEqual(["saving"]);
  }, 60_000);
});
