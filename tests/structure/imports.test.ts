import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Data flows one way: domain rules and small helpers depend on nothing of the project,
// config on those only, the program's stages on those and on the scripts' registry
// (provisioning/scripts.ts), which itself depends on nothing above domain/ and lib/.
const REPO = resolve(__dirname, "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The project folders a file imports from (relative imports only), as top-level folder names. */
function importedFolders(file: string): Array<{ file: string; folder: string }> {
  const text = readFileSync(join(REPO, file), "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"';]*?from\s+"(\.[^"]+)"/g)].map((m) => m[1] ?? "");
  return specs.map((spec) => {
    const target = relative(REPO, resolve(REPO, dirname(file), spec));
    return { file, folder: target.split("/")[0] ?? "" };
  });
}

function edges(dir: string) {
  return tsFiles(dir).flatMap(importedFolders);
}

describe("the import graph", () => {
  it("domain/ imports nothing of the project but itself", () => {
    const all = edges("domain");
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((e) => e.folder !== "domain")).toEqual([]);
  });

  it("lib/ imports nothing of the project", () => {
    expect(edges("lib").filter((e) => e.folder !== "lib")).toEqual([]);
  });

  it("config/ imports only domain/ and lib/, never the program's folders or the scripts' folders", () => {
    const all = edges("config");
    expect(all.filter((e) => e.folder === "domain").length).toBeGreaterThan(0);
    expect(all.filter((e) => !["config", "domain", "lib"].includes(e.folder))).toEqual([]);
  });

  it("provisioning/ (the scripts' registry) imports only domain/ and lib/", () => {
    const all = edges("provisioning");
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((e) => !["provisioning", "domain", "lib"].includes(e.folder))).toEqual([]);
  });

  // The program's stages: build/ (the build VM) and image/ come first, batch/ submits to a
  // host, pool/ is a host of the stack's own; each may use the ones before it, never after,
  // and the registry of the scripts they deliver.
  const STAGES: Record<string, string[]> = {
    build: ["domain", "lib", "provisioning"],
    image: ["domain", "lib", "provisioning", "build"],
    batch: ["domain", "lib", "provisioning"],
    pool: ["domain", "lib", "provisioning", "build", "batch"],
  };
  for (const [stage, allowed] of Object.entries(STAGES)) {
    it(`${stage}/ imports only ${allowed.join(", ")}: never config/, offline/, harness/, tools/ or tests/`, () => {
      const all = edges(stage);
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((e) => ![stage, ...allowed].includes(e.folder))).toEqual([]);
    });
  }

  it("tools/, offline/ and harness/ never import tests/ (tests use them, not the other way)", () => {
    expect(["tools", "offline", "harness"].flatMap(edges).filter((e) => e.folder === "tests")).toEqual([]);
  });

  it("harness/ (real roots, pools, doubles) never imports tools/", () => {
    expect(edges("harness").filter((e) => e.folder === "tools")).toEqual([]);
  });

  it("no cycle between folders", () => {
    const graph = new Map<string, Set<string>>();
    for (const dir of ["build", "image", "batch", "pool", "config", "domain", "lib", "offline", "harness", "tools", "provisioning"]) {
      const from = graph.get(dir) ?? new Set<string>();
      for (const e of edges(dir)) if (e.folder !== dir) from.add(e.folder);
      graph.set(dir, from);
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) return void cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});
