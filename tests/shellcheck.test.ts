import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { execCommand } from "../harness/exec";
import { missing } from "./support/requirements";

const REPO = join(__dirname, "..");
const why = missing({ commands: ["shellcheck"] });

/** A file without an extension whose first line runs a shell (the doubles: `cadcget`, `condor_q`...). */
function hasShellShebang(path: string): boolean {
  return /^#!.*\b(ba)?sh\b/.test(readFileSync(path, "utf8").split("\n", 1)[0] ?? "");
}

/** Every shell script under a directory, found by walking, so new scripts are checked too. */
function shellScripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "fixtures" ? [] : shellScripts(p);
    return /\.(sh|bash)$/.test(e.name) || (!e.name.includes(".") && hasShellShebang(p)) ? [p] : [];
  });
}

describe.skipIf(why)("shellcheck", () => {
  // .ci/run has no extension: named too, so the CI entry point is checked whatever its first line.
  const scripts = [...new Set([...["provisioning", "tools", ".ci", "harness", "tests"].flatMap((d) => shellScripts(join(REPO, d))).map((p) => relative(REPO, p)), ".ci/run"])].sort();

  it("finds the provisioning scripts", () => {
    expect(scripts).toContain("provisioning/build-vm/create-user.sh");
    expect(scripts).toContain("tools/bench/batch-job.sh");
    expect(scripts).toContain(".ci/install-node.sh");
    // The doubles of CANFAR's wrappers and of the CADC services are shell too.
    expect(scripts).toContain("harness/doubles/condor_submit");
    expect(scripts).toContain("harness/cadc-doubles/vcp");
  });

  it.each(scripts)("%s is clean under shellcheck -x", async (script) => {
    // -x follows `source` lines; -P SCRIPTDIR resolves them from the script's own directory.
    const r = await execCommand(["shellcheck", "-x", "-P", "SCRIPTDIR", "--format=gcc", join(REPO, script)]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
