import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PROVISIONING_DIR, provisioningPlan } from "../../build/provisioning-plan";

// The folders of provisioning/ say where a script runs (README, Layout); these hold the
// program to that, so a script cannot drift into a folder that misnames its host.
const REPO = resolve(__dirname, "..", "..");
const CTX = { defaultUser: "ubuntu", cadcUser: "astronomer", scratchDevice: "/dev/vdb" };

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

describe("where scripts run", () => {
  it("copies to the build VM come only from build-vm/, shared/, worker/ and lib/ (what they source)", () => {
    const folders = new Set(
      provisioningPlan(CTX)
        .flatMap((a) => (a.kind === "copy" ? [relative(PROVISIONING_DIR, a.local).split("/")[0]] : []))
        .sort(),
    );
    expect([...folders]).toEqual(["build-vm", "lib", "shared", "worker"]);
  });

  it("keeps the VM's staged names as they were before the folders (no new image from a move)", () => {
    const remotes = provisioningPlan(CTX).flatMap((a) => (a.kind === "copy" ? [a.remote] : []));
    expect(remotes).toContain("/home/ubuntu/.canfar-batch/provisioning/create-user.sh");
    expect(remotes).toContain("/home/astronomer/.canfar-batch/provisioning/cadc-credentials.sh");
    expect(remotes).toContain("/home/ubuntu/.canfar-batch/provisioning/pipeline/do_catalogue.bash");
    expect(remotes.filter((r) => /\/(build-vm|shared|worker|local|batch-host)\//.test(r))).toEqual([]);
  });

  it("local commands of the components run scripts of provisioning/local/ only", () => {
    const named = ["build", "image", "batch", "pool"].flatMap(tsFiles).flatMap((file) =>
      [...readFileSync(join(REPO, file), "utf8").matchAll(/bash \$\{SCRIPTS\}\/[\w-]+\.sh|bash provisioning\/[\w/-]+\.sh/g)].map((m) => `${file}: ${m[0]}`),
    );
    // Both spellings occur: a literal path, and SCRIPTS (which must be provisioning/local).
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !/provisioning\/local\/|\$\{SCRIPTS\}/.test(n))).toEqual([]);
    expect(readFileSync(join(REPO, "image", "snapshot.ts"), "utf8")).toMatch(/const SCRIPTS = "provisioning\/local";/);
  });
});
