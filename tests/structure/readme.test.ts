import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The README is for users; contributors' material and background live in CONTRIBUTING.md and
// docs/. These hold the README to its size and sections, and every link between the three to
// a file (and heading) that exists, so moving text cannot leave a reader at a dead end.
const REPO = resolve(__dirname, "..", "..");
const README = join(REPO, "README.md");
const MAX_README_BYTES = 25_000;
const SECTIONS = [
  "Prerequisites",
  "Quickstart",
  "First real stack",
  "Changing a stack",
  "Campaigns",
  "Troubleshooting a failed `up`",
  "Teardown",
  "Configuration reference",
  "Testing",
];

const docs = (): string[] =>
  readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(REPO, "docs", f));
const files = (): string[] => [README, join(REPO, "CONTRIBUTING.md"), ...docs()];

/** Markdown without its fenced code blocks, where a `[x](y)` is an example, not a link. */
const prose = (text: string): string => text.replace(/^(```+|~~~+)[^\n]*\n[\s\S]*?^\1\s*$/gm, "");
const headings = (text: string): string[] => [...prose(text).matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? "").trim());
/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

/** Every relative link of a file: [file, target path, anchor or ""]. */
function relativeLinks(file: string): Array<{ from: string; target: string; anchor: string }> {
  const text = prose(readFileSync(file, "utf8"));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? "")
    .filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l))
    .map((l) => {
      const [path = "", anchor = ""] = l.split("#");
      return { from: relative(REPO, file), target: path === "" ? file : resolve(dirname(file), path), anchor };
    });
}

describe("README.md, for users", () => {
  it(`is under ${MAX_README_BYTES} bytes`, () => {
    expect(statSync(README).size).toBeLessThan(MAX_README_BYTES);
  });

  it("has the sections a user needs", () => {
    const have = new Set(headings(readFileSync(README, "utf8")));
    expect(SECTIONS.filter((s) => !have.has(s))).toEqual([]);
  });

  it("keeps its test command and points contributors to CONTRIBUTING.md", () => {
    const readme = readFileSync(README, "utf8");
    expect(readme).toMatch(/## Testing\s+`npm test`; see \[CONTRIBUTING\.md\]\(CONTRIBUTING\.md\)/);
  });

  it("links every docs/ page, so none is an orphan", () => {
    const linked = new Set(relativeLinks(README).map((l) => l.target));
    expect(docs().length).toBeGreaterThan(0);
    expect(docs().filter((d) => !linked.has(d)).map((d) => relative(REPO, d))).toEqual([]);
  });
});

describe("links between README, CONTRIBUTING.md and docs/", () => {
  it("every relative link names a file that exists, and a heading of it that exists", () => {
    const links = files().flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(10);
    const broken = links.filter((l) => {
      if (!existsSync(l.target)) return true;
      if (l.anchor === "" || !l.target.endsWith(".md")) return false;
      return !headings(readFileSync(l.target, "utf8")).map(slug).includes(l.anchor);
    });
    expect(broken.map((l) => `${l.from} → ${relative(REPO, l.target)}${l.anchor ? `#${l.anchor}` : ""}`)).toEqual([]);
  });
});
