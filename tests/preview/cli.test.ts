import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

// `npm run preview` as CI runs it: the base rendered from one checkout, the head from
// another (here a copy with an edited script), compared by the command itself.
const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const work = mkdtempSync(join(tmpdir(), "preview-cli-"));
const head = join(work, "head");
const baseDir = join(work, "base");
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(checkout: string, tool: string, args: string[]) {
  return spawnSync(TSX, [join(checkout, "tools", tool), ...args], { encoding: "utf8", cwd: checkout, timeout: 60_000 });
}
const preview = (args: string[]) => run(head, "preview.ts", args);

/** A copy of the checkout's tracked files, sharing node_modules. */
function copyCheckout(to: string): void {
  const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const f of files) cpSync(join(ROOT, f), join(to, f), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
}

function devWith(name: string, edit: (config: Record<string, unknown>) => void): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  edit(doc.config);
  const path = join(work, name);
  writeFileSync(path, stringify(doc));
  return path;
}

describe("npm run preview", () => {
  beforeAll(() => {
    const r = run(ROOT, "render.ts", ["--stack", "dev", "--out", baseDir]);
    if (r.status !== 0) throw new Error(r.stderr);
    copyCheckout(head);
  }, 120_000);

  it("with nothing changed predicts nothing, exit 0", () => {
    const r = preview(["--stack", "dev", "--base", baseDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("nothing changes: every resource stays as it is");
    expect(r.stdout).not.toMatch(/\b(create|update|replace|delete)\b/);
  });

  it("an added package: the build VM replaced delete-first, provisioning from the start, a new image, a submission that re-queues nothing", () => {
    const config = devWith("pkg.yaml", (c) => (c["canfar:extraPackages"] = ["htop"]));
    const r = preview(["--stack", "dev", "--base", baseDir, "--config", config]);
    process.stdout.write(`\n--- npm run preview: canfar:extraPackages [htop]\n${r.stdout}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("replaces the build VM (the old one deleted first)");
    expect(r.stdout).toContain("provisioning re-runs from create-user (create-user, setup-scratch, cadc-credentials, install-pipeline, smoke-test)");
    expect(r.stdout).toContain("replace openstack:compute/instance:Instance build-server (userData, delete first)");
    expect(r.stdout).toContain("a new worker image");
    expect(r.stdout).toMatch(/no exposure re-queued: pipeline [0-9a-f]{12} is unchanged/);
  });

  it("new observation IDs touch only the submission", () => {
    const config = devWith("ids.yaml", (c) => (c["canfar:observationIds"] = ["1056215p", "1056216p", "1056300p"]));
    const r = preview(["--stack", "dev", "--base", baseDir, "--config", config, "--format", "json"]);
    const text = preview(["--stack", "dev", "--base", baseDir, "--config", config]);
    process.stdout.write(`\n--- npm run preview: canfar:observationIds [1056215p, 1056216p, 1056300p]\n${text.stdout}`);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { steps: Array<{ op: string; name: string; replaceReasons: string[] }>; changeSummary: Record<string, number> };
    const changed = doc.steps.filter((s) => s.op !== "same");
    expect(changed.every((s) => s.name.startsWith("batch-")), JSON.stringify(changed)).toBe(true);
    expect(changed.map((s) => s.name)).toContain("batch-submit");
    expect(doc.changeSummary.replace).toBe(changed.length);
    expect(Object.keys(doc.steps[0] ?? {})).toEqual(["op", "urn", "type", "name", "diffReasons", "replaceReasons", "deleteBeforeReplace"]);
  });

  it("an edited setup-scratch.sh re-runs that step and the ones after it, makes a new image, and says no exposure is re-queued", () => {
    appendFileSync(join(head, "provisioning", "build-vm", "setup-scratch.sh"), "# edited in a pull request\n");
    try {
      const r = preview(["--stack", "dev", "--base", baseDir]);
      process.stdout.write(`\n--- npm run preview: an edited provisioning/build-vm/setup-scratch.sh\n${r.stdout}`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("provisioning re-runs from setup-scratch (setup-scratch, cadc-credentials, install-pipeline, smoke-test)");
      expect(r.stdout).toContain("starts the build VM first if a snapshot stopped it");
      expect(r.stdout).toContain("a new worker image");
      expect(r.stdout).toMatch(/no exposure re-queued: pipeline [0-9a-f]{12} is unchanged, so submit\.sh, in a new run directory, skips every exposure it catalogued/);
      expect(r.stdout).not.toContain("provision-create-user");
      expect(r.stdout).not.toContain("build-server");
      const md = preview(["--stack", "dev", "--base", baseDir, "--format", "markdown"]);
      expect(md.stdout).toMatch(/^<!-- canfar-batch-preview -->\n### canfar-batch preview/);
      expect(md.stdout).toContain("| replace | `command:remote:Command` | `provision-setup-scratch` | triggers, create first |");
    } finally {
      cpSync(join(ROOT, "provisioning", "build-vm", "setup-scratch.sh"), join(head, "provisioning", "build-vm", "setup-scratch.sh"));
    }
  });

  it("an edited worker README changes nothing at all: no image, no submission", () => {
    const readme = join(head, "provisioning", "worker", "README.md");
    appendFileSync(readme, "\nA typo fixed in a pull request.\n");
    try {
      const r = preview(["--stack", "dev", "--base", baseDir]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("nothing changes: every resource stays as it is");
    } finally {
      cpSync(join(ROOT, "provisioning", "worker", "README.md"), readme);
    }
  });

  it("an edited catalogue.param: a new image and a new pipeline identity, so every exposure is queued again", () => {
    const param = join(head, "provisioning", "worker", "catalogue.param");
    appendFileSync(param, "FLUX_RADIUS\n");
    try {
      const r = preview(["--stack", "dev", "--base", baseDir]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/up to 4 exposures queued again: the pipeline identity changes from ([0-9a-f]{12}) to (?!\1)[0-9a-f]{12} \(its files or tool versions\)/);
    } finally {
      cpSync(join(ROOT, "provisioning", "worker", "catalogue.param"), param);
    }
  });

  it("exits 3 and says why when a step would collide, and formats a real preview's JSON the same way", () => {
    const engine = {
      steps: [
        { op: "create-replacement", urn: "urn:pulumi:dev::canfar-batch::canfar:index:KeyPair$openstack:compute/keypair:Keypair::key-keypair", newState: { type: "openstack:compute/keypair:Keypair", inputs: { name: "k" } } },
        { op: "replace", urn: "urn:pulumi:dev::canfar-batch::canfar:index:KeyPair$openstack:compute/keypair:Keypair::key-keypair", oldState: { inputs: { name: "k", publicKey: "a" } }, newState: { type: "openstack:compute/keypair:Keypair", inputs: { name: "k", publicKey: "b" } }, diffReasons: ["publicKey"], replaceReasons: ["publicKey"] },
        { op: "delete-replaced", urn: "urn:pulumi:dev::canfar-batch::canfar:index:KeyPair$openstack:compute/keypair:Keypair::key-keypair" },
      ],
      changeSummary: { replace: 1 },
    };
    const file = join(work, "engine.json");
    writeFileSync(file, JSON.stringify(engine));
    const r = preview(["--engine-json", file]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain("replace openstack:compute/keypair:Keypair key-keypair (publicKey, create first)");
    expect(r.stdout).toContain('UNSAFE:\n  ! replace of key-keypair needs the key pair name "k" while its old self');
    expect(r.stdout).toContain("a new key pair");
    // Deleting first, as the program now declares, is safe.
    engine.steps.unshift(engine.steps.pop() as (typeof engine.steps)[number]);
    writeFileSync(file, JSON.stringify(engine));
    const safe = preview(["--engine-json", file, "--format", "json"]);
    expect(safe.status, safe.stdout).toBe(0);
    expect((JSON.parse(safe.stdout) as { steps: Array<{ deleteBeforeReplace: boolean }> }).steps[0]?.deleteBeforeReplace).toBe(true);
  });

  it("refuses bad arguments with exit 2 and explains itself with --help and --rules", () => {
    expect(preview(["--stack", "dev"]).stderr).toContain("--base is required");
    expect(preview(["--stack", "dev", "--base", join(work, "nowhere")]).status).toBe(2);
    expect(preview(["--stack", "dev", "--base", baseDir, "--format", "yaml"]).stderr).toContain("--format 'yaml': expected one of text, markdown, json");
    const help = preview(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 every step is safe; 3 a step is flagged unsafe");
    const rules = preview(["--rules"]);
    expect(rules.stdout).toContain("| `openstack:compute/instance:Instance` |");
    expect(rules.stdout).toContain("terraform-provider-openstack v1.54.1");
  });
});
