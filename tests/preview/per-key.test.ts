import { beforeAll, describe, expect, it } from "vitest";
import { REFERENCE } from "../../config/reference";
import { KNOWN_KEYS } from "../../config/schema";
import type { PlannedResource } from "../../offline/capture";
import { predict } from "../../tools/preview/predict";
import { CHANGES } from "./key-changes";
import { renderDev } from "./stack-change";

// Every key of the config reference, changed in a copy of Pulumi.dev.yaml: what the
// prediction says must be what the README's "changing it later" column says.
describe("the config reference's \"changing it later\", key by key", () => {
  let base: PlannedResource[];
  const results = new Map<string, { predicted: string[]; documented: readonly string[]; hazards: string[] }>();

  beforeAll(async () => {
    base = await renderDev();
    const selfHosted = await renderDev({ stack: "self-hosted" });
    // One at a time: the SDK's runtime state is global to the process.
    for (const key of KNOWN_KEYS) {
      const edit = CHANGES[key];
      if (!edit) continue;
      // The pool's own keys are measured on the self-hosted example, the rest on dev.
      const p = predict(edit.stack === "self-hosted" ? selfHosted : base, await renderDev(edit));
      results.set(key, { predicted: p.consequences.map((c) => c.id), documented: REFERENCE[key]?.changes ?? [], hazards: p.hazards.map((h) => h.message) });
    }
  }, 300_000);

  it("has a change for every key, and nothing else", () => {
    expect(Object.keys(CHANGES).sort()).toEqual([...KNOWN_KEYS].sort());
  });

  it("nothing changed predicts nothing", () => {
    const p = predict(base, base);
    expect(p.steps.every((s) => s.op === "same")).toBe(true);
    expect(p.consequences).toEqual([]);
  });

  for (const key of KNOWN_KEYS) {
    it(`canfar:${key}`, () => {
      const r = results.get(key);
      if (r === undefined) throw new Error(`no prediction was made for canfar:${key}`);
      expect(r.hazards, key).toEqual([]);
      expect(r.predicted, key).toEqual(r.documented);
    });
  }

  it("prints the tally", () => {
    const matching = [...results.values()].filter((r) => JSON.stringify(r.predicted) === JSON.stringify(r.documented) && r.hazards.length === 0).length;
    process.stdout.write(`${matching} of ${KNOWN_KEYS.length} keys: prediction matches the reference\n`);
    expect(matching).toBe(KNOWN_KEYS.length);
  });
});
