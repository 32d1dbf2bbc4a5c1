import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execCommand } from "../../harness/exec";

// tools/ci/preview-job.sh as both CI examples run it, on every outcome that used to stop the
// job before its comment: the real render and preview in two copies of the checkout; only
// `pulumi` (the cloud) and `npm ci` (the registry) are fakes, first on PATH.
const ROOT = join(__dirname, "..", "..");
const JOB = join(ROOT, "tools", "ci", "preview-job.sh");
const MARKER = "<!-- canfar-batch-preview -->";
// Each of these evaluates the program once or twice: about 20 s alone, minutes on a busy machine.
const HEAVY = 300_000;
const work = mkdtempSync(join(tmpdir(), "preview-job-"));
const good = join(work, "good");
const edited = join(work, "edited");
const fakes = join(work, "fakes");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the checkout's files (tracked and new), sharing node_modules. */
function copyCheckout(to: string): void {
  const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const f of files) cpSync(join(ROOT, f), join(to, f), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
}

function fake(name: string, body: string): void {
  writeFileSync(join(fakes, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
}

async function job(args: string[], name: string) {
  const comment = join(work, `${name}.md`);
  const r = await execCommand(["bash", JOB, ...args, "--comment", comment], { env: { ...process.env, PATH: `${fakes}:${process.env.PATH ?? ""}` }, timeoutMs: 240_000 });
  const text = readFileSync(comment, "utf8");
  process.stdout.write(`\n--- preview-job.sh ${name}: exit ${r.code}\n${text}`);
  return { ...r, comment: text };
}

/** The example stack with canfar:flavor set (the example leaves it at its default, commented out). */
function withFlavor(stack: string, flavor: string): string {
  const edited = stack.replace(/^config:\n/m, `config:\n  canfar:flavor: ${flavor}\n`);
  if (edited === stack) throw new Error("the example stack has no config: section");
  return edited;
}

describe("tools/ci/preview-job.sh", () => {
  beforeAll(() => {
    copyCheckout(good);
    copyCheckout(edited);
    mkdirSync(fakes);
    // The edited checkout: a p* flavor the config refuses, and a stack the good one lacks.
    const dev = readFileSync(join(good, "Pulumi.dev.yaml"), "utf8");
    writeFileSync(join(edited, "Pulumi.dev.yaml"), withFlavor(dev, "p2-3gb"));
    writeFileSync(join(edited, "Pulumi.ci-new.yaml"), dev);
  }, 120_000);

  it("a config error and a failing real preview: both in the comment with their errors, the job fails (2)", async () => {
    // The engine, asked for --json, prints its error as a diagnostic and exits 255.
    fake(
      "pulumi",
      `echo '{"steps": [], "diagnostics": [{"severity": "error", "message": "error: Missing required property cloud\\n"}]}'
echo 'error: preview failed' >&2
exit 255`,
    );
    const r = await job(["--stack", "dev", "--base", good, "--head", edited, "--engine-stack", "org/canfar-batch/dev"], "config-error");
    expect(r.code, r.stderr).toBe(2);
    expect(r.comment.startsWith(`${MARKER}\n### canfar-batch preview\n`)).toBe(true);
    expect(r.comment).toContain("The head's stack configuration (`Pulumi.dev.yaml`) is refused, so there is no prediction:");
    expect(r.comment).toMatch(/canfar:flavor.*p2-3gb/);
    expect(r.comment).toContain("`pulumi preview` of org/canfar-batch/dev failed (exit 255):");
    expect(r.comment).toContain("error: preview failed");
    expect(r.comment).toContain("error: Missing required property cloud");
    expect(r.comment).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
   }, HEAVY);

  it("a stack new in the pull request: compared with nothing, every resource a create, the real preview added, exit 0", async () => {
    fake("pulumi", `echo '{"steps": [{"op": "create", "urn": "urn:pulumi:ci-new::canfar-batch::pulumi:pulumi:Stack::canfar-batch-ci-new"}]}'`);
    const r = await job(["--stack", "ci-new", "--base", good, "--head", edited, "--engine-stack", "org/canfar-batch/ci-new"], "new-stack");
    expect(r.code, r.stderr).toBe(0);
    expect(r.comment.startsWith(`${MARKER}\n### canfar-batch preview\n\n> [!NOTE]\n> Stack \`ci-new\` is new`)).toBe(true);
    expect(r.comment).toMatch(/\*\*\d+ create\*\*/);
    expect(r.comment).not.toMatch(/\b(replace|delete|update) \|/);
    expect(r.comment).toContain("#### pulumi preview of org/canfar-batch/ci-new");
    expect(r.comment).not.toContain("[!WARNING]");
   }, HEAVY);

  it("a base that does not render: said so, the head still previewed and the job passes (the fix must be able to pass)", async () => {
    const r = await job(["--stack", "dev", "--base", edited, "--head", good], "broken-base");
    expect(r.code, r.stderr).toBe(0);
    expect(r.comment).toContain("The base does not render");
    expect(r.comment).toMatch(/canfar:flavor.*p2-3gb/);
    expect(r.comment).toMatch(/\*\*\d+ create\*\*/);
   }, HEAVY);

  it("npm ci failing: the comment names the checkout and shows npm's error, exit 1", async () => {
    fake("npm", `if [[ "$1" == ci ]]; then echo "npm error code E403 (the registry refused)" >&2; exit 1; fi; exit 99`);
    try {
      const r = await job(["--install", "--stack", "dev", "--base", good, "--head", edited], "npm-ci");
      expect(r.code).toBe(1);
      expect(r.comment).toContain("`npm ci` failed in the base checkout, so there is no preview:");
      expect(r.comment).toContain("npm error code E403");
    } finally {
      rmSync(join(fakes, "npm"));
    }
  });

  it("an error holding backticks cannot close the comment's code block", async () => {
    fake("npm", `if [[ "$1" == ci ]]; then printf 'a \`\`\`\` fence\\n' >&2; exit 1; fi; exit 99`);
    try {
      const r = await job(["--install", "--stack", "dev", "--base", good, "--head", edited], "fence");
      expect(r.comment).toContain("`````\na ```` fence\n`````");
    } finally {
      rmSync(join(fakes, "npm"));
    }
  });

  it("bad arguments: exit 2 naming the argument", async () => {
    const r = await execCommand(["bash", JOB, "--stack", "dev", "--base", good, "--head", edited]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--comment is required");
  });
});
