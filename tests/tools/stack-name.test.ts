import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { optionsNpmTook, stackNameOf, stacksIn } from "../../tools/stack-name";

describe("--stack as Pulumi writes it", () => {
  it("a stack name, ORG/STACK and ORG/PROJECT/STACK (PULUMI_STACK) all name the stack", () => {
    expect(stackNameOf("dev", "canfar-batch")).toEqual({ stack: "dev" });
    expect(stackNameOf("my-org/dev", "canfar-batch")).toEqual({ stack: "dev" });
    expect(stackNameOf("my-org/canfar-batch/dev", "canfar-batch")).toEqual({ stack: "dev" });
  });

  it("refuses another project's stack and what is no stack name", () => {
    expect(stackNameOf("my-org/other/dev", "canfar-batch")).toEqual({ problem: "--stack 'my-org/other/dev' is a stack of project 'other'; this checkout is project 'canfar-batch' (Pulumi.yaml)" });
    for (const bad of ["a/b/c/d", "../dev", "dev;rm", "org//dev", ""]) expect(stackNameOf(bad, "canfar-batch"), bad).toHaveProperty("problem");
  });
});

describe("the stacks a checkout has", () => {
  const dir = mkdtempSync(join(tmpdir(), "stacks-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it("one per Pulumi.<stack>.yaml, Pulumi.yaml itself not one", () => {
    for (const f of ["Pulumi.yaml", "Pulumi.self-hosted.yaml", "Pulumi.dev.yaml", "README.md"]) writeFileSync(join(dir, f), "");
    expect(stacksIn(dir)).toEqual(["dev", "self-hosted"]);
  });
});

describe("options npm took for itself (`npm run render --stack dev`, the `--` forgotten)", () => {
  const options = ["stack", "config", "out", "engine-json"];
  it("names each option npm set as npm_config_<name> that the command was not given", () => {
    expect(optionsNpmTook(options, ["dev", "out"], { npm_config_stack: "true", npm_config_out: "true" })).toEqual(["stack", "out"]);
    expect(optionsNpmTook(options, [], { npm_config_engine_json: "x.json" })).toEqual(["engine-json"]);
  });

  it("nothing when the options came through (`npm run render -- --stack dev`) or npm set none", () => {
    expect(optionsNpmTook(options, ["--stack", "dev", "--out=out"], { npm_config_stack: "true", npm_config_out: "true" })).toEqual([]);
    expect(optionsNpmTook(options, ["--stack", "dev"], { npm_config_cache: "/home/me/.npm" })).toEqual([]);
  });
});
