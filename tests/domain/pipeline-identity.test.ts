import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PIPELINE_FILES, PIPELINE_IDENTITY, pipelineIdentity, toolVersionsText } from "../../domain/pipeline-identity";

const WORKER = join(__dirname, "..", "..", "provisioning", "worker");
const files = Object.fromEntries(PIPELINE_FILES.map((f) => [f, readFileSync(join(WORKER, f), "utf8")]));
const VERSIONS = "source-extractor=2.25.0+ds-3 libcfitsio-bin=4.2.0-3 ";

describe("the pipeline's identity", () => {
  it("covers every file of the worker's pipeline, and no doc or test sample", () => {
    const shipped = readdirSync(WORKER, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith(".md"))
      .map((e) => e.name)
      .sort();
    expect([...PIPELINE_FILES]).toEqual(shipped);
    expect(PIPELINE_FILES).not.toContain("README.md");
  });

  it("is 12 hex digits, the same for the same inputs, whatever order the versions came in", () => {
    const p = pipelineIdentity(files, VERSIONS);
    expect(p).toMatch(PIPELINE_IDENTITY);
    expect(pipelineIdentity({ ...files }, "libcfitsio-bin=4.2.0-3  source-extractor=2.25.0+ds-3\n")).toBe(p);
    expect(toolVersionsText(VERSIONS)).toBe("libcfitsio-bin=4.2.0-3 source-extractor=2.25.0+ds-3");
  });

  it("changes with any file's content and with a tool version", () => {
    const p = pipelineIdentity(files, VERSIONS);
    const others = PIPELINE_FILES.map((f) => pipelineIdentity({ ...files, [f]: `${files[f]}\n# edited` }, VERSIONS));
    for (const [i, q] of others.entries()) expect(q, PIPELINE_FILES[i]).not.toBe(p);
    expect(new Set(others).size).toBe(PIPELINE_FILES.length);
    expect(pipelineIdentity(files, "source-extractor=2.25.0+ds-4 libcfitsio-bin=4.2.0-3")).not.toBe(p);
  });

  it("ignores files outside the list and refuses a missing one by name", () => {
    const p = pipelineIdentity(files, VERSIONS);
    expect(pipelineIdentity({ ...files, "README.md": "anything" }, VERSIONS)).toBe(p);
    const { ["catalogue.param"]: _dropped, ...without } = files;
    expect(() => pipelineIdentity(without, VERSIONS)).toThrow("pipeline identity: missing catalogue.param");
  });
});
