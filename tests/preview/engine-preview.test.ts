import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { stepsFromEngineJson } from "../../tools/preview/engine-json";
import { formatJson } from "../../tools/preview/format";
import { predict } from "../../tools/preview/predict";
import { DECLARED_SINCE, ENGINE_PREVIEW, engineRecordNames, NO_LONGER_DECLARED, renderEngineStack, renderEngineStackWhole, upLogEvents } from "./engine-fixture";

// `npm run preview` held to what the real engine decided and did for one change
// (canfar:extraPackages [] -> [htop]), on the same configuration: the engine's preview
// JSON gives the steps, its `up` log the order it ran them in.
interface JsonStep {
  op: string;
  urn: string;
  name: string;
  replaceReasons: string[];
  deleteBeforeReplace: boolean | null;
}

const ROOT = join(__dirname, "..", "..");
const row = (s: JsonStep) => `${s.op} ${s.urn} deleteFirst=${String(s.deleteBeforeReplace)}`;
const edgesOf = (r: PlannedResource) => new Set([...r.dependencies, ...Object.values(r.propertyDependencies ?? {}).flat()]);

describe("the preview against the real engine (extraPackages [] -> [htop])", () => {
  let base: PlannedResource[];
  let head: PlannedResource[];
  let predicted: JsonStep[];
  const engine = stepsFromEngineJson(readFileSync(ENGINE_PREVIEW, "utf8"), ENGINE_PREVIEW).filter((s) => !NO_LONGER_DECLARED(s.name));
  const log = upLogEvents();
  const at = (name: string, what: string) => log.findIndex((e) => e.name === name && e.what === what);

  beforeAll(async () => {
    base = await renderEngineStack({ "canfar:extraPackages": "[]" });
    head = await renderEngineStack();
    // The preview's --format json, as `npm run preview -- --format json` prints it.
    predicted = (JSON.parse(formatJson(predict(base, head))) as { steps: JsonStep[] }).steps;
  }, 120_000);

  it("leaves out of the render exactly the provisioning steps declared since the recording", async () => {
    const recorded = engineRecordNames();
    // The record lists changed resources only; every provisioning step was replaced by this
    // change, so each one the engine knew is in it.
    const since = (await renderEngineStackWhole()).map((r) => r.name).filter((n) => n.startsWith("provision-") && !recorded.has(n));
    expect(since.sort()).toEqual([...DECLARED_SINCE].sort());
  });

  it("takes the engine's steps: the same resources, ops and delete-first flags", () => {
    const changed = (steps: readonly JsonStep[]) => steps.filter((s) => s.op !== "same").map(row).sort();
    expect(changed(predicted)).toEqual(changed(engine));
    expect(changed(engine)).toHaveLength(33);
    // The build server and the 27 provisioning steps it takes down before it.
    const deleteFirst = predicted.filter((s) => s.deleteBeforeReplace === true).map((s) => s.name);
    expect(deleteFirst).toHaveLength(28);
    expect(deleteFirst.filter((n) => n.startsWith("provision-"))).toHaveLength(27);
    expect(deleteFirst).toContain("build-server");
  });

  it("the engine's up deleted exactly the predicted delete-first dependents before the build server, each before what it depends on", () => {
    const server = at("build-server", "deleting original");
    expect(server).toBeGreaterThan(0);
    const deletedBefore = log.slice(0, server).filter((e) => e.what === "deleting original").map((e) => e.name);
    const dependents = predicted.filter((s) => s.deleteBeforeReplace === true && s.name !== "build-server").map((s) => s.name);
    expect([...deletedBefore].sort()).toEqual([...dependents].sort());
    // The old state's dependencies, as the base render declares them: the engine deleted
    // every dependent before each resource it depends on.
    const byUrn = new Map(base.map((r) => [r.urn, r]));
    const byName = new Map(base.map((r) => [r.name, r]));
    let checked = 0;
    for (const name of [...dependents, "build-server"]) {
      for (const dep of edgesOf(byName.get(name) as PlannedResource)) {
        const d = byUrn.get(dep);
        if (!d || !dependents.includes(d.name)) continue;
        expect(at(name, "deleting original"), `${name} deleted before ${d.name}`).toBeLessThan(at(d.name, "deleting original"));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(27);
  });

  it("the engine's up honoured every predicted flag: delete-first deleted before it created, create-first created before it deleted", () => {
    const replaced = predicted.filter((s) => s.op === "replace");
    expect(replaced).toHaveLength(33);
    for (const s of replaced) {
      const created = at(s.name, "created replacement");
      const deleted = at(s.name, "deleted original");
      expect(created, `${s.name} created`).toBeGreaterThan(0);
      expect(deleted, `${s.name} deleted`).toBeGreaterThan(0);
      expect(deleted < created, `${s.name}: deleted first?`).toBe(s.deleteBeforeReplace);
    }
  });

  it("reads the engine's reasons where it puts them, and they are the predicted ones", () => {
    const reasonsOf = (steps: readonly JsonStep[]) => Object.fromEntries(steps.filter((s) => s.op === "replace").map((s) => [s.urn, s.replaceReasons]));
    const read = reasonsOf(engine);
    expect(Object.keys(read)).toHaveLength(33);
    // On the replace step (the server), the create-replacement step (the provisioning it took
    // down) and only in detailedDiff (a command's replaceOnChanges: the worker image).
    expect(read[engine.find((s) => s.name === "build-server")?.urn ?? ""]).toEqual(["userData"]);
    expect(read[engine.find((s) => s.name === "provision-smoke-test")?.urn ?? ""]).toEqual(["triggers"]);
    expect(read[engine.find((s) => s.name === "worker-image-image")?.urn ?? ""]).toEqual(["triggers"]);
    expect(read).toEqual(reasonsOf(predicted));
  });

  it("`npm run preview -- --engine-json` of the engine's file prints a reason on every replacement", () => {
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "tools", "preview.ts"), "--engine-json", ENGINE_PREVIEW], { encoding: "utf8", cwd: ROOT, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const replaces = r.stdout.split("\n").filter((l) => l.startsWith("  replace "));
    expect(replaces).toHaveLength(34);
    for (const line of replaces) expect(line).toMatch(/ \((\w+)(, \w+)*, (delete|create) first\)$/);
    expect(r.stdout).toContain("replace command:remote:Command provision-smoke-test (triggers, delete first)");
    expect(r.stdout).toContain("replace command:local:Command worker-image-image (triggers, create first)");
  });
});
