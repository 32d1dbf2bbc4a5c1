import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Data flows one way: domain rules and small helpers depend on nothing of the project,
// config on those only, components on config, the scripts' folders on nothing above them.
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

  it("config/ imports only domain/ and lib/, never components/ or the scripts' folders", () => {
    const all = edges("config");
    expect(all.filter((e) => e.folder === "domain").length).toBeGreaterThan(0);
    expect(all.filter((e) => !["config", "domain", "lib"].includes(e.folder))).toEqual([]);
  });

  it("components/ never import tools/ or tests/", () => {
    expect(edges("components").filter((e) => ["tools", "tests"].includes(e.folder))).toEqual([]);
  });
});
