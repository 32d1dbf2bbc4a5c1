import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The cloud has one source: lib/cloud-access.ts makes the provider from canfar:cloud, and every
// stage and component takes its provider and its clouds.yaml name from the CloudAccess it is given.
const REPO = resolve(__dirname, "..", "..");
const PROGRAM = ["index.ts", "build", "image", "batch", "pool", "lib"];

function tsFiles(path: string): string[] {
  const full = join(REPO, path);
  if (path.endsWith(".ts")) return [path];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(path, e.name)) : e.name.endsWith(".ts") ? [join(path, e.name)] : []));
}

const sources = PROGRAM.flatMap(tsFiles).map((file) => ({ file: relative(REPO, join(REPO, file)), text: readFileSync(join(REPO, file), "utf8") }));

describe("the cloud has one source", () => {
  it("only lib/cloud-access.ts makes an OpenStack provider", () => {
    expect(sources.filter((s) => /new openstack\.Provider\(/.test(s.text)).map((s) => s.file)).toEqual(["lib/cloud-access.ts"]);
  });

  it("every OS_CLOUD a command runs with is the CloudAccess's name", () => {
    const uses = sources.flatMap((s) => [...s.text.matchAll(/OS_CLOUD: ([^,}]+)/g)].map((m) => `${s.file}: ${(m[1] ?? "").trim()}`));
    expect(uses.length).toBeGreaterThanOrEqual(4);
    expect(uses.filter((u) => !/cloud\.name$/.test(u))).toEqual([]);
  });

  it("no component takes the cloud as a bare string", () => {
    expect(sources.filter((s) => /\bcloud: string\b/.test(s.text)).map((s) => s.file)).toEqual([]);
  });
});
