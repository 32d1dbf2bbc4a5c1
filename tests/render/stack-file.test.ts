import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readStackConfig } from "../../offline/stack-file";
import { StackFileError } from "../../offline/stack-file-error";

const work = mkdtempSync(join(tmpdir(), "stack-file-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The problems readStackConfig reports for a stack file holding `text`. */
function problemsOf(text: string): readonly string[] {
  const path = join(work, "Pulumi.broken.yaml");
  writeFileSync(path, text);
  try {
    readStackConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(StackFileError);
    return (err as StackFileError).problems.map((p) => p.replace(path, "FILE"));
  }
  throw new Error("accepted");
}

describe("a stack file that is not YAML: FILE:LINE:COLUMN and what is wrong", () => {
  it("a tab indenting a line", () => {
    expect(problemsOf("config:\n  canfar:network: my-net\n\tcanfar:flavor: c2-7.5gb-30\n")).toEqual(["FILE:3:1: a tab indents this line; YAML indents with spaces only"]);
  });

  it("a key missing its colon", () => {
    expect(problemsOf("config:\n  canfar:flavor c2-7.5gb-30\n  canfar:network: my-net\n")).toEqual([
      "FILE:2:3: 'canfar:flavor' is followed by a value without ': ' between them; write `canfar:flavor: ...`",
    ]);
  });

  it("a key given twice", () => {
    expect(problemsOf("config:\n  canfar:flavor: c2-7.5gb-30\n  canfar:flavor: c4-15gb-83\n")).toEqual(["FILE:3:3: 'canfar:flavor' is set twice in the same map; keep one"]);
  });

  it("a quote left open", () => {
    expect(problemsOf("config:\n  canfar:network: 'my-net\n")).toEqual(["FILE:3:1: Missing closing 'quote: a quote or bracket opened before here is never closed"]);
  });

  it("the first problem, and how many follow (one tab makes every later line look misplaced)", () => {
    const dev = readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");
    const problems = problemsOf(dev.replace("  canfar:network:", "\tcanfar:network:"));
    expect(problems[0]).toMatch(/^FILE:\d+:1: a tab indents this line; YAML indents with spaces only$/);
    expect(problems[1]).toMatch(/^\(and \d+ more after it, which may all follow from it: fix this one first\)$/);
    expect(problems).toHaveLength(2);
    // The parser reports a missing ': ' lines later, where the map goes on: the line itself is named.
    const line = dev.split("\n").findIndex((l) => l.startsWith("  canfar:network: ")) + 1;
    expect(problemsOf(dev.replace("canfar:network: ", "canfar:network "))).toEqual([
      `FILE:${line}:3: 'canfar:network' is followed by a value without ': ' between them; write \`canfar:network: ...\``,
    ]);
  });

  it("a document or a config section that is not a map", () => {
    expect(problemsOf("- canfar:flavor: c2\n")).toEqual(["FILE:1:1: expected a map with a 'config:' key, as in Pulumi.dev.yaml"]);
    expect(problemsOf("config:\n  - canfar:flavor: c2\n")).toEqual(["FILE:2:3: 'config' must be a map of namespace:key to value (canfar:flavor: c2-7.5gb-30)"]);
  });

  it("reads a good file, and an empty one, as before", () => {
    const path = join(work, "Pulumi.good.yaml");
    writeFileSync(path, "config:\n  canfar:flavor: c2-7.5gb-30\n  canfar:cadcPassword:\n    secure: AAAB\n");
    const read = readStackConfig(path);
    expect(read.config["canfar:flavor"]).toBe("c2-7.5gb-30");
    expect(read.secretKeys).toEqual(["canfar:cadcPassword"]);
    writeFileSync(path, "");
    expect(readStackConfig(path)).toEqual({ config: {}, secretKeys: [] });
  });
});
