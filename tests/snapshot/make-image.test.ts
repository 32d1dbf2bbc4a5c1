import { afterEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { OpenstackDouble } from "../../harness/doubles/openstack-double";

const SCRIPT = resolve(__dirname, "../../provisioning/local/make-image.sh");
const HASH = "sha256-0f1e2d";
const PACKAGES = "libcfitsio-bin=4.2.0-3 source-extractor=2.25.0+ds-3";

// Every cloud a test made, cleaned up after it.
const clouds: OpenstackDouble[] = [];
afterEach(() => {
  for (const os of clouds.splice(0)) os.cleanup();
});

/** A cloud holding the build VM as the snapshot finds it: quiesced, stopped. */
function stoppedBuildVm(): OpenstackDouble {
  const os = new OpenstackDouble();
  os.addServer("build-vm", "SHUTOFF");
  clouds.push(os);
  return os;
}

const required = ["--server", "build-vm", "--prefix", "image-reduction", "--tag", "0123456789", "--content", HASH, "--packages", PACKAGES];
const makeImage = (os: OpenstackDouble, args: string[]) => execCommand(["bash", SCRIPT, ...args], { env: os.env(), timeoutMs: 60_000 });

describe("make-image.sh against the openstack double", () => {
  it("names the image PREFIX-<UTC date>-TAG and labels it with content, commit, packages, then the given properties", async () => {
    const os = stoppedBuildVm();
    const r = await makeImage(os, [...required, "--property", "canfar_batch_stack=proj/dev", "--timeout", "60", "--poll", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const name = `image-reduction-${new Date().toISOString().slice(0, 10)}-0123456789`;
    const [image] = os.images();
    expect(JSON.parse(r.stdout)).toEqual({ id: image?.id, name, status: "active" });
    const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: resolve(__dirname, "../.."), encoding: "utf8" }).trim();
    expect(os.calls()).toContain(
      `server image create --name ${name} --property canfar_batch_content=${HASH} --property canfar_batch_commit=${commit} ` +
        `--property canfar_batch_packages=${PACKAGES} --property canfar_batch_stack=proj/dev build-vm -f value -c id`,
    );
  });

  it.each(["--server", "--prefix", "--tag", "--content", "--packages"])("refuses to run without %s, naming it", async (option) => {
    const i = required.indexOf(option);
    const os = stoppedBuildVm();
    const r = await makeImage(os, [...required.slice(0, i), ...required.slice(i + 2)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`make-image.sh: error: ${option} is required`);
    expect(os.calls()).toEqual([]);
  });

  it("passes create-image.sh's own refusals through (a bad --timeout)", async () => {
    const r = await makeImage(stoppedBuildVm(), [...required, "--timeout", "soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--timeout 'soon': expected a positive number of seconds");
  });
});
