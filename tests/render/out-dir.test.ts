import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OutDirError, RENDER_MARKER, checkOutDir, outDirProblem, userPath } from "../../tools/render/out-dir";

const work = mkdtempSync(join(tmpdir(), "out-dir-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const checkout = join(work, "checkout");
const cwd = join(work, "home", "me", "project");
mkdirSync(join(checkout, ".git"), { recursive: true });
mkdirSync(cwd, { recursive: true });
const context = { cwd, checkout };
const dir = (...parts: string[]) => {
  const path = join(work, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
};

describe("which --out directories a render may replace", () => {
  it("a new directory, an empty one, and an earlier render (its marker)", () => {
    expect(outDirProblem(join(work, "new", "out"), context)).toBeUndefined();
    expect(outDirProblem(dir("empty"), context)).toBeUndefined();
    const earlier = dir("earlier");
    writeFileSync(join(earlier, RENDER_MARKER), "");
    writeFileSync(join(earlier, "plan.json"), "{}");
    expect(outDirProblem(earlier, context)).toBeUndefined();
    // The quickstart's `--out out`, inside the checkout.
    expect(outDirProblem(join(checkout, "out"), context)).toBeUndefined();
  });

  it("never a directory with one's own file in it", () => {
    const mine = dir("mine");
    writeFileSync(join(mine, "notes.txt"), "mine");
    expect(outDirProblem(mine, context)).toBe(
      `'${mine}' is not empty and holds no earlier render (no ${RENDER_MARKER}); a render replaces its whole --out directory, so give a new or empty one (or remove this one yourself)`,
    );
  });

  it("never a git work tree, even an earlier render's marker in one", () => {
    const repo = dir("repo");
    mkdirSync(join(repo, ".git"));
    writeFileSync(join(repo, RENDER_MARKER), "");
    expect(outDirProblem(repo, context)).toBe(`'${repo}' is a git work tree; give a directory of its own, such as ./out`);
  });

  it("never the checkout, or a directory above it", () => {
    expect(outDirProblem(checkout, context)).toMatch(/holds this checkout/);
    expect(outDirProblem(work, context)).toMatch(/holds this checkout/);
  });

  it("never the working directory or one above it, nor through a symbolic link", () => {
    expect(outDirProblem(cwd, context)).toBe(`'${cwd}' is the directory you are working in; give a directory of its own, such as ./out`);
    const home = join(work, "home");
    expect(outDirProblem(home, context)).toBe(`'${home}' is the directory you are working in, or one above it; give a directory of its own, such as ./out`);
    const link = join(work, "link-to-home");
    symlinkSync(home, link);
    expect(outDirProblem(link, context)).toMatch(/is the directory you are working in, or one above it/);
  });

  it("never the file system's root, nor a file", () => {
    expect(outDirProblem("/", context)).toBe("'/' is the file system's root; give a directory of its own, such as ./out");
    const file = join(work, "a-file");
    writeFileSync(file, "");
    expect(outDirProblem(file, context)).toMatch(/is a file, not a directory/);
  });

  it("checkOutDir throws an OutDirError naming --out", () => {
    expect(() => checkOutDir("/", context)).toThrow(OutDirError);
    expect(() => checkOutDir("/", context)).toThrow(/^--out: '\/' is the file system's root.*\(nothing written\)$/);
  });

  it("a relative path is read from where the user ran npm (INIT_CWD)", () => {
    expect(userPath("out", { INIT_CWD: "/home/me/project" })).toBe("/home/me/project/out");
    expect(userPath("/tmp/out", { INIT_CWD: "/home/me/project" })).toBe("/tmp/out");
    expect(userPath("out", {})).toBe(join(process.cwd(), "out"));
  });
});
