import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { execCommand } from "../../harness/exec";

// tools/ci/gitlab-note.mjs against a stand-in for GitLab's notes API on loopback: the
// network post is the only fake.
const NOTE = join(__dirname, "..", "..", "tools", "ci", "gitlab-note.mjs");
const MARKER = "<!-- canfar-batch-preview -->";
const dir = mkdtempSync(join(tmpdir(), "gitlab-note-"));

interface Request {
  method: string;
  url: string;
  token: string | undefined;
  body: unknown;
}
let requests: Request[] = [];
let notes: Array<{ id: number; body: string }> = [];
let server: Server;
let api = "";

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", token: req.headers["private-token"] as string | undefined, body });
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(req.method === "GET" ? notes : { id: 99 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
  notes = [];
});

function note(file: string, env: Record<string, string> = {}) {
  const base = { PATH: process.env.PATH ?? "", CI_API_V4_URL: api, CI_PROJECT_ID: "group/project", CI_MERGE_REQUEST_IID: "12", CI_JOB_URL: "https://gitlab.example/job/5", PREVIEW_TOKEN: "glpat-test" };
  return execCommand([process.execPath, NOTE, file], { env: { ...base, ...env }, timeoutMs: 20_000 });
}

describe("tools/ci/gitlab-note.mjs", () => {
  it("posts the file as a new note when none of its own exists", async () => {
    const file = join(dir, "comment.md");
    writeFileSync(file, `${MARKER}\nthe preview\n`);
    notes = [{ id: 3, body: "a reviewer's note" }];
    const r = await note(file);
    expect(r.code, r.stderr).toBe(0);
    expect(requests.map((q) => [q.method, q.url, q.token])).toEqual([
      ["GET", "/api/v4/projects/group%2Fproject/merge_requests/12/notes?per_page=100&sort=asc", "glpat-test"],
      ["POST", "/api/v4/projects/group%2Fproject/merge_requests/12/notes", "glpat-test"],
    ]);
    expect(requests[1]?.body).toEqual({ body: `${MARKER}\nthe preview\n` });
  });

  it("edits its own note in place", async () => {
    const file = join(dir, "comment.md");
    writeFileSync(file, `${MARKER}\nnew\n`);
    notes = [{ id: 8, body: `${MARKER}\nold` }];
    const r = await note(file);
    expect(r.code, r.stderr).toBe(0);
    expect(requests[1]?.method).toBe("PUT");
    expect(requests[1]?.url).toBe("/api/v4/projects/group%2Fproject/merge_requests/12/notes/8");
  });

  it("with no comment file (the job failed before the preview) posts that the job failed, with its link", async () => {
    const r = await note(join(dir, "never-written.md"));
    expect(r.code, r.stderr).toBe(0);
    expect(requests[1]?.body).toEqual({ body: `${MARKER}\n### canfar-batch preview\n\nThe preview job failed before it could preview: see [the job](https://gitlab.example/job/5).\n` });
  });

  it("without PREVIEW_TOKEN (protected, on an unprotected branch): prints the note, warns why, posts nothing, exit 0", async () => {
    const file = join(dir, "comment.md");
    writeFileSync(file, `${MARKER}\nthe preview\n`);
    const r = await note(file, { PREVIEW_TOKEN: "" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${MARKER}\nthe preview\n`);
    expect(r.stderr).toContain("PREVIEW_TOKEN is not set");
    expect(r.stderr).toContain("protected");
    expect(requests).toEqual([]);
  });

  it("a refused post fails the job with GitLab's answer", async () => {
    const file = join(dir, "comment.md");
    writeFileSync(file, `${MARKER}\nx\n`);
    const refusing = createServer((_req, res) => {
      res.statusCode = 403;
      res.end('{"message":"403 Forbidden"}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const r = await note(file, { CI_API_V4_URL: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/api/v4` });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("403");
    } finally {
      refusing.close();
    }
  });
});
