import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REFERENCE, withReference } from "../../config/reference";
import { KNOWN_KEYS } from "../../config/schema";

describe("config reference", () => {
  it("documents every key of the schema and nothing else", () => {
    expect(Object.keys(REFERENCE).sort()).toEqual([...KNOWN_KEYS].sort());
  });

  it("is current in the README (run `npm run config-reference -- --write` after a change)", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    expect(withReference(readme)).toBe(readme);
  });

  it("Pulumi.dev.yaml, the complete example, sets every key", () => {
    const dev = readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");
    const missingKeys = KNOWN_KEYS.filter((k) => !new RegExp(`^\\s*#?\\s*canfar:${k}:`, "m").test(dev));
    expect(missingKeys).toEqual([]);
  });

  it("names only README sections that exist (*Section* in a key's text)", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    const headings = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]?.trim()));
    const cited = Object.values(REFERENCE).flatMap((r) => [...`${r.what} ${r.note ?? ""}`.matchAll(/\(see \*([^*]+)\*/g)].map((m) => m[1]));
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter((c) => !headings.has(c))).toEqual([]);
  });
});
