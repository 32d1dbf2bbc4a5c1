import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// npm's own range semantics: semver (and @types/semver) come with @pulumi/pulumi.
import * as semver from "semver";
import { parse } from "yaml";
import { requireAll } from "../support/requirements";

// One Node major everywhere a user or CI picks one: @pulumi/pulumi 3.276 needs 22, and a
// CI example on 20 would test under a node the package refuses (EBADENGINE).
const ROOT = join(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const MAJOR = 22;

function pinnedVersion(): string {
  const version = /^readonly NODE_VERSION="(\d+\.\d+\.\d+)"$/m.exec(read(".ci/install-node.sh"))?.[1];
  if (!version) throw new Error(".ci/install-node.sh: no readonly NODE_VERSION=\"X.Y.Z\" line");
  return version;
}

describe("Node 22", () => {
  it("package.json and its lockfile's root entry both require >=22", () => {
    const pkg = JSON.parse(read("package.json")) as { engines?: { node?: string } };
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { engines?: { node?: string } }> };
    expect(pkg.engines?.node).toBe(`>=${MAJOR}`);
    // npm ci compares the two: a lockfile that disagrees with package.json is refused.
    expect(lock.packages[""]?.engines).toEqual(pkg.engines);
  });

  it("the pinned node satisfies every engines range in the lockfile (no EBADENGINE)", () => {
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const version = pinnedVersion();
    expect(lock.packages["node_modules/@pulumi/pulumi"]?.engines).toEqual({ node: ">=22" });
    const refusing = Object.entries(lock.packages).filter(([, p]) => {
      const range = p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined;
      return range !== undefined && !semver.satisfies(version, range);
    });
    expect(refusing.map(([name, p]) => `${name}: ${JSON.stringify(p.engines)}`)).toEqual([]);
    // The check can fail: Node 20 is refused by @pulumi/pulumi's range.
    expect(semver.satisfies("20.19.0", ">=22")).toBe(false);
  });

  it(".ci/install-node.sh pins one exact 22.x with its tarball's integrity, and .ci/run runs the tests under it", () => {
    const install = read(".ci/install-node.sh");
    expect(pinnedVersion().split(".")[0]).toBe(String(MAJOR));
    expect(install).toMatch(/^readonly NODE_INTEGRITY="sha512-[A-Za-z0-9+/]{86}=="$/m);
    const run = read(".ci/run");
    const lines = run.split("\n").map((l) => l.trim());
    const installAt = lines.findIndex((l) => l.includes(".ci/install-node.sh"));
    const pathAt = lines.findIndex((l) => /^export PATH="\$\{node_bin\}:\$\{PATH\}"$/.test(l));
    const printAt = lines.findIndex((l) => l.includes("node $(node --version)"));
    const testAt = lines.findIndex((l) => l === "npm test");
    expect(installAt).toBeGreaterThan(-1);
    expect([installAt < pathAt, pathAt < printAt, printAt < testAt, lines.indexOf("npm ci --no-audit --no-fund") > pathAt]).toEqual([true, true, true, true]);
  });

  it("both CI examples and the README use Node 22", () => {
    const gh = parse(read(".github/workflows/preview.yml")) as { jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }> };
    const setups = Object.values(gh.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("actions/setup-node@")));
    expect(setups.length).toBeGreaterThan(0);
    expect(setups.map((s) => s.with?.["node-version"])).toEqual(setups.map(() => MAJOR));
    const gl = parse(read(".gitlab-ci.example.yml")) as Record<string, { image?: string }>;
    const images = Object.values(gl).flatMap((j) => (j && typeof j === "object" && typeof j.image === "string" ? [j.image] : []));
    expect(images.length).toBeGreaterThan(0);
    expect(images.filter((i) => !i.startsWith(`node:${MAJOR}-`))).toEqual([]);
    expect(read("README.md")).toContain(`Node.js ${MAJOR} or later`);
    expect(read("README.md")).not.toMatch(/Node\.js 20\b/);
  });

  it.runIf(requireAll)("under .ci/run the tests themselves run on Node 22 or later", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(MAJOR);
  });
});
